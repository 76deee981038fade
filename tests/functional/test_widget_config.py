"""The widget's setting (PUT /v1/settings `widget`) and the public config the widget reads before a
chat starts (GET /v1/widget/{widget_key}/config): validated, served only for the current key, counted
against the source's budget, cacheable briefly, open or closed by the tenant's business hours."""
from __future__ import annotations

from datetime import UTC, datetime

import pytest

from chalicelib.attachments import ALLOWED
from chalicelib.runtime import runtime
from chalicelib.storage.settings import Settings
from devstack.harness import Api
from tests.helpers import all_items, from_source, header, use_limits, without_rate_limits

pytestmark = pytest.mark.frozen_clock  # the rate-limit windows must not end mid-test

STYLED = {"color": "#0A7C42", "position": "bottom-left",
          "greeting": {"en": "Hi! How can we help?", "zh-CN": "您好！有什么可以帮您？"},
          "launcher_text": {"en": "Ask us", "zh-CN": "咨询"},
          "prechat_fields": [{"field": "name", "required": True}, {"field": "email", "required": False}]}
ALL_WEEK = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


def config(api: Api, widget_key: str):
    return api.call("GET", f"/v1/widget/{widget_key}/config")


def put_settings(api: Api, tenant: dict, **changes):
    return api.call("PUT", "/v1/settings", changes, token=tenant["admin_token"])


# --- The setting ---------------------------------------------------------------------------
def test_a_new_tenant_has_the_default_widget(api: Api, tenant: dict):
    widget = api.call("GET", "/v1/settings", token=tenant["admin_token"]).json_body["widget"]
    assert widget == {"color": "#1f5fbf", "position": "bottom-right", "greeting": {}, "launcher_text": {},
                      "prechat_fields": []}


def test_an_admin_styles_the_widget_and_it_is_replaced_whole(api: Api, tenant: dict):
    styled = put_settings(api, tenant, widget=STYLED)
    assert styled.status_code == 200, styled.body
    assert styled.json_body["widget"] == {**STYLED, "color": "#0a7c42"}  # stored lower-case
    recoloured = put_settings(api, tenant, widget={"color": "#222222"}).json_body["widget"]
    assert recoloured == {**Settings().widget.model_dump(mode="json"), "color": "#222222"}
    assert put_settings(api, tenant, offline_message="Back soon").json_body["widget"] == recoloured


@pytest.mark.parametrize("widget, field", [
    ({"color": "red"}, "widget.color"),
    ({"color": "#12345"}, "widget.color"),
    ({"color": "#12345g"}, "widget.color"),
    ({"position": "top-left"}, "widget.position"),
    ({"greeting": {"fr": "Bonjour"}}, "widget.greeting"),
    ({"greeting": {"en": "x" * 301}}, "widget.greeting"),
    ({"greeting": {"en": "   "}}, "widget.greeting"),
    ({"greeting": "Hello"}, "widget.greeting"),
    ({"launcher_text": {"zh-CN": "字" * 41}}, "widget.launcher_text"),
    ({"prechat_fields": [{"field": "phone"}]}, "widget.prechat_fields"),
    ({"prechat_fields": [{"field": "name"}, {"field": "name", "required": True}]}, "widget.prechat_fields"),
    ({"prechat_fields": [{"field": "email", "required": "yes"}]}, "widget.prechat_fields"),
    ({"colour": "#000000"}, "widget.colour"),
])
def test_a_bad_widget_setting_is_refused_and_nothing_changes(api: Api, tenant: dict, widget: dict, field: str):
    put_settings(api, tenant, widget=STYLED)
    before = without_rate_limits(all_items())
    refused = put_settings(api, tenant, widget=widget, offline_message="Changed")
    assert refused.status_code == 400, refused.body
    assert refused.json_body["error"]["code"] == "invalid_input"
    assert any(detail["field"].startswith(field) for detail in refused.json_body["error"]["details"]), refused.body
    assert without_rate_limits(all_items()) == before


def test_only_an_admin_changes_the_widget(api: Api, tenant: dict):
    api.add_agent(tenant["admin_token"], "sup@acme.com", role="supervisor")
    supervisor = api.login(tenant["tenant_id"], "sup@acme.com")
    assert api.call("PUT", "/v1/settings", {"widget": STYLED}, token=supervisor).status_code == 403
    assert api.call("GET", "/v1/widget-embed", token=supervisor).status_code == 403


def test_the_embed_names_the_current_key_and_script(api: Api, tenant: dict):
    embed = api.call("GET", "/v1/widget-embed", token=tenant["admin_token"]).json_body
    assert embed["widget_key"] == tenant["widget_key"]
    assert embed["script_url"] == f"{runtime().config.public_url}/widget.js"
    rotated = api.call("POST", "/v1/widget-key", token=tenant["admin_token"]).json_body["widget_key"]
    assert api.call("GET", "/v1/widget-embed", token=tenant["admin_token"]).json_body["widget_key"] == rotated


# --- The public config ---------------------------------------------------------------------
def test_the_config_shows_the_style_and_nothing_else(api: Api, tenant: dict):
    put_settings(api, tenant, widget=STYLED, default_locale="zh-CN", allowed_origins=["https://shop.example"],
                 offline_message="Back at nine.")
    answer = config(api, tenant["widget_key"])
    assert answer.status_code == 200, answer.body
    assert answer.json_body == {**STYLED, "color": "#0a7c42", "default_locale": "zh-CN", "open": True,
                                "offline_message": "Back at nine.", "survey_question": None,
                                "attachments_max_bytes": 10 * 1024 * 1024, "attachment_types": sorted(ALLOWED)}
    assert header(answer, "Cache-Control") == "public, max-age=60"
    assert header(answer, "Access-Control-Allow-Origin") == "*"


def test_texts_the_tenant_left_as_they_came_are_null(api: Api, tenant: dict):
    """The widget then says them in the visitor's language, not the English default."""
    answer = config(api, tenant["widget_key"]).json_body
    assert (answer["offline_message"], answer["survey_question"]) == (None, None)
    put_settings(api, tenant, survey_question="How was it?")
    assert config(api, tenant["widget_key"]).json_body["survey_question"] == "How was it?"


@pytest.mark.parametrize("key", ["nonsense", "wk.nobody.abc", "wk.{tenant}.wrongsecret", "wk.{tenant}",
                                 "wk.{tenant}.x.y", "wk..", "%00", "wk.{tenant}.é"])
def test_a_bad_key_is_404(api: Api, tenant: dict, key: str):
    answer = config(api, key.format(tenant=tenant["tenant_id"]))
    assert answer.status_code == 404, answer.body
    assert header(answer, "Cache-Control") == "no-store"  # a mistyped key is not remembered by the browser
    # A session with such a key is 404 too ("wk.." was a 500: an empty tenant id reached DynamoDB).
    started = api.call("POST", f"/v1/widget/{key.format(tenant=tenant['tenant_id'])}/sessions", {})
    assert started.status_code == 404, started.body


def test_a_rotated_key_is_404_at_once(api: Api, tenant: dict):
    assert config(api, tenant["widget_key"]).status_code == 200
    rotated = api.call("POST", "/v1/widget-key", token=tenant["admin_token"]).json_body["widget_key"]
    assert config(api, tenant["widget_key"]).status_code == 404
    assert config(api, rotated).status_code == 200


def test_another_tenants_key_reads_only_its_own_widget(api: Api, tenant: dict):
    other = api.signup("Globex", "admin@globex.com")
    put_settings(api, tenant, widget=STYLED)
    assert config(api, other["widget_key"]).json_body["color"] == "#1f5fbf"
    forged = f"wk.{tenant['tenant_id']}.{other['widget_key'].split('.')[2]}"
    assert config(api, forged).status_code == 404


def test_config_reads_are_rate_limited_per_source_before_the_key_is_looked_up(api: Api, tenant: dict):
    use_limits(visitor_source_requests_per_minute=3)
    with from_source("203.0.113.7"):
        statuses = [config(api, key).status_code for key in
                    (tenant["widget_key"], "wk.nobody.guess1", "wk.nobody.guess2", tenant["widget_key"])]
        refused = config(api, tenant["widget_key"])
    assert statuses == [200, 404, 404, 429]
    assert refused.json_body["error"]["code"] == "rate_limited" and header(refused, "Retry-After")
    with from_source("203.0.113.8"):  # another address has its own budget
        assert config(api, tenant["widget_key"]).status_code == 200


@pytest.mark.parametrize("hours, at, is_open", [
    ({day: [["09:00", "17:00"]] for day in ALL_WEEK}, datetime(2026, 12, 7, 10, 0, tzinfo=UTC), True),
    ({day: [["09:00", "17:00"]] for day in ALL_WEEK}, datetime(2026, 12, 7, 17, 0, tzinfo=UTC), False),
    ({day: [] for day in ALL_WEEK}, datetime(2026, 12, 7, 12, 0, tzinfo=UTC), False),
    (None, datetime(2026, 12, 7, 3, 0, tzinfo=UTC), True),
])
def test_open_or_closed_by_business_hours(api: Api, tenant: dict, clock, hours, at: datetime, is_open: bool):
    put_settings(api, tenant, business_hours=hours, timezone="UTC")
    clock.offset = at.timestamp() - clock.frozen_at
    assert config(api, tenant["widget_key"]).json_body["open"] is is_open


def test_hours_are_read_in_the_tenants_time_zone(api: Api, tenant: dict, clock):
    put_settings(api, tenant, business_hours={day: [["09:00", "17:00"]] for day in ALL_WEEK},
                 timezone="Asia/Shanghai")
    clock.offset = datetime(2026, 12, 7, 2, 0, tzinfo=UTC).timestamp() - clock.frozen_at  # 10:00 in Shanghai
    assert config(api, tenant["widget_key"]).json_body["open"] is True
    clock.offset = datetime(2026, 12, 7, 10, 0, tzinfo=UTC).timestamp() - clock.frozen_at  # 18:00 there
    assert config(api, tenant["widget_key"]).json_body["open"] is False
