"""An agent's own console language: PATCH /v1/me sets it, /v1/me and the login answer carry it, and
nobody else's changes (through the Chalice handlers on moto)."""
from __future__ import annotations

import json

import pytest

from devstack.harness import PASSWORD, Api
from tests.helpers import all_items, error_of

pytestmark = pytest.mark.frozen_clock


def login_answer(api: Api, tenant: dict, email: str) -> dict:
    response = api.call("POST", "/v1/auth/login", {"tenant_id": tenant["tenant_id"], "email": email,
                                                   "password": PASSWORD})
    assert response.status_code == 200, response.body
    return response.json_body


def test_an_agent_sets_their_own_language_and_it_comes_back_at_every_sign_in(api: Api, tenant: dict):
    api.add_agent(tenant["admin_token"], "alex@acme.com")
    alex = api.login(tenant["tenant_id"], "alex@acme.com")
    assert api.call("GET", "/v1/me", token=alex).json_body["agent"]["locale"] is None  # follows the browser

    changed = api.call("PATCH", "/v1/me", {"locale": "zh-CN"}, token=alex)
    assert changed.status_code == 200, changed.body
    assert changed.json_body["kind"] == "agent" and changed.json_body["agent"]["locale"] == "zh-CN"
    assert api.call("GET", "/v1/me", token=alex).json_body["agent"]["locale"] == "zh-CN"
    assert login_answer(api, tenant, "alex@acme.com")["agent"]["locale"] == "zh-CN"
    # Nobody else's language moved: the admin still follows their browser, in every view of them.
    assert api.call("GET", "/v1/me", token=tenant["admin_token"]).json_body["agent"]["locale"] is None
    agents = {agent["email"]: agent for agent in
              api.call("GET", "/v1/agents", token=tenant["admin_token"]).json_body["items"]}
    assert agents["admin@acme.com"]["locale"] is None and agents["alex@acme.com"]["locale"] == "zh-CN"

    # null goes back to the browser's language: the attribute is removed, not stored as a value.
    back = api.call("PATCH", "/v1/me", {"locale": None}, token=alex)
    assert back.status_code == 200 and back.json_body["agent"]["locale"] is None
    [stored] = [item for item in all_items()["switchboard-test-agents"] if item["email"]["S"] == "alex@acme.com"]
    assert "locale" not in stored
    # An empty patch changes nothing.
    assert api.call("PATCH", "/v1/me", {}, token=alex).json_body["agent"]["locale"] is None


@pytest.mark.parametrize("body, field", [
    ({"locale": "fr"}, "locale"),
    ({"locale": "zh"}, "locale"),
    ({"locale": 7}, "locale"),
    ({"locale": "en", "role": "admin"}, "role"),
    ({"name": "Someone else"}, "name"),
])
def test_a_bad_patch_is_400_naming_the_field_and_changes_nothing(api: Api, tenant: dict, body: dict, field: str):
    before = json.dumps(all_items()["switchboard-test-agents"], sort_keys=True)
    response = api.call("PATCH", "/v1/me", body, token=tenant["admin_token"])
    assert response.status_code == 400
    error = error_of(response)
    assert error["code"] == "invalid_input" and field in error["message"]
    assert json.dumps(all_items()["switchboard-test-agents"], sort_keys=True) == before


def test_an_api_key_has_no_language_of_its_own(api: Api, tenant: dict):
    response = api.call("PATCH", "/v1/me", {"locale": "en"}, token=tenant["api_key"])
    assert response.status_code == 403 and error_of(response)["code"] == "forbidden"


def test_without_a_token_nothing_changes(api: Api, tenant: dict):
    assert api.call("PATCH", "/v1/me", {"locale": "en"}).status_code == 401
