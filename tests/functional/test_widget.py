"""The public routes a tenant's pages call with fetch: widget sessions (allowed origins, resuming an
open chat) and survey answers, both answerable cross-origin (CORS), through the Chalice handlers."""
from __future__ import annotations

import pytest

from chalicelib.storage.visitors import VisitorModel
from devstack.harness import PASSWORD, Api, Party
from tests.helpers import all_items, allow_origins, header, without_rate_limits

OWN_ORIGIN = "https://test.execute-api.us-east-1.amazonaws.com"  # conftest's SWITCHBOARD_PUBLIC_URL
PREFLIGHT = {"Origin": "https://shop.example", "Access-Control-Request-Method": "POST",
             "Access-Control-Request-Headers": "content-type"}

# Logins and widget sessions count against per-minute windows: a window must not end mid-test.
pytestmark = pytest.mark.frozen_clock


def sessions_path(tenant: dict) -> str:
    return f"/v1/widget/{tenant['widget_key']}/sessions"


def start(api: Api, tenant: dict, origin: str | None = None, **body):
    return api.call("POST", sessions_path(tenant), body, headers={"Origin": origin} if origin else None)


def preflight(path: str) -> dict:
    """A browser's preflight, answered as chalice.local answers it (chalice.test's client cannot:
    it chokes on the body-less answer)."""
    from chalice.config import Config
    from chalice.local import LocalGateway

    import app as app_module

    return LocalGateway(app_module.app, Config()).handle_request("OPTIONS", path, PREFLIGHT, None)


# --- Allowed origins ------------------------------------------------------------------------
@pytest.mark.parametrize("origin", ["https://evil.example", "http://shop.example", "https://shop.example:444",
                                    "null"])
def test_an_unlisted_origin_gets_403_and_no_visitor(api: Api, tenant: dict, origin: str):
    allow_origins(api, tenant, ["https://shop.example"])
    before = without_rate_limits(all_items())
    refused = start(api, tenant, origin, name="Vera", email="vera@example.com")
    assert refused.status_code == 403, refused.body
    assert refused.json_body["error"]["code"] == "origin_not_allowed"
    assert header(refused, "Access-Control-Allow-Origin") == "*"  # the widget can read why
    assert without_rate_limits(all_items()) == before


def test_a_returning_visitor_from_an_unlisted_origin_is_not_touched(api: Api, tenant: dict):
    vera = start(api, tenant, name="Vera").json_body
    allow_origins(api, tenant, ["https://shop.example"])
    before = without_rate_limits(all_items())
    refused = start(api, tenant, "https://evil.example", visitor_token=vera["visitor_token"], name="Mallory")
    assert refused.status_code == 403
    assert without_rate_limits(all_items()) == before  # last_seen_at and name unchanged


@pytest.mark.parametrize("origin", ["https://shop.example", "HTTPS://SHOP.example:443", "http://localhost:3000",
                                    OWN_ORIGIN, OWN_ORIGIN + ":443", None])
def test_listed_own_or_no_origin_gets_a_session(api: Api, tenant: dict, origin: str | None):
    allow_origins(api, tenant, ["https://shop.example", "http://localhost:3000"])
    response = start(api, tenant, origin)
    assert response.status_code == 201, response.body
    assert VisitorModel.get(tenant["tenant_id"], response.json_body["visitor_id"])


def test_an_empty_list_allows_any_origin(api: Api, tenant: dict):
    for origin in ("https://anywhere.example", "http://127.0.0.1:5500", "null"):
        assert start(api, tenant, origin).status_code == 201, origin


def test_the_origin_header_name_is_matched_in_any_case(api: Api, tenant: dict):
    allow_origins(api, tenant, ["https://shop.example"])
    for name in ("origin", "ORIGIN"):
        response = api.call("POST", sessions_path(tenant), {}, headers={name: "https://evil.example"})
        assert response.status_code == 403, name


# --- CORS -----------------------------------------------------------------------------------
@pytest.mark.parametrize("path", ["/v1/widget/wk.t_x.y/sessions", "/v1/surveys/any-token"])
def test_the_preflight_allows_a_json_post_from_any_page(path: str):
    answer = preflight(path)
    assert answer["statusCode"] == 200
    assert header(answer, "Access-Control-Allow-Origin") == "*"
    assert "POST" in header(answer, "Access-Control-Allow-Methods").split(",")
    assert "Content-Type" in header(answer, "Access-Control-Allow-Headers").split(",")
    assert header(answer, "Access-Control-Max-Age") == "600"
    assert header(answer, "Access-Control-Allow-Credentials") is None


def test_answers_and_errors_carry_the_cors_header(api: Api, tenant: dict):
    origin = {"Origin": "https://shop.example"}
    responses = {
        "created": api.call("POST", sessions_path(tenant), {"name": "Vera"}, headers=origin),
        "bad body": api.call("POST", sessions_path(tenant), raw="{oops", headers=origin),
        "unknown widget": api.call("POST", "/v1/widget/wk.t_nope.abc/sessions", {}, headers=origin),
        "too large": api.call("POST", sessions_path(tenant), raw='{"name": "' + "x" * 70_000 + '"}'),
        "wrong media type": api.call("POST", sessions_path(tenant), raw="{}", headers={"Content-Type": "text/xml"}),
        "unknown survey": api.call("POST", "/v1/surveys/not-a-token", {"rating": 5}, headers=origin),
        "bad survey answer": api.call("POST", "/v1/surveys/not-a-token", {"rating": 9}, headers=origin),
    }
    assert {name: r.status_code for name, r in responses.items()} == {
        "created": 201, "bad body": 400, "unknown widget": 404, "too large": 413, "wrong media type": 415,
        "unknown survey": 404, "bad survey answer": 400}
    for name, response in responses.items():
        assert header(response, "Access-Control-Allow-Origin") == "*", name


def test_rate_limited_widget_sessions_carry_the_cors_header(api: Api, tenant: dict):
    for _ in range(30):
        assert start(api, tenant).status_code == 201
    limited = start(api, tenant, "https://shop.example")
    assert limited.status_code == 429 and header(limited, "Access-Control-Allow-Origin") == "*"


def test_staff_routes_stay_same_origin(api: Api, tenant: dict):
    login = api.call("POST", "/v1/auth/login", {"tenant_id": tenant["tenant_id"], "email": "admin@acme.com",
                                                 "password": PASSWORD},
                     headers={"Origin": "https://shop.example"})
    assert login.status_code == 200 and header(login, "Access-Control-Allow-Origin") is None
    assert header(preflight("/v1/auth/login"), "Access-Control-Allow-Origin") is None


# --- Resuming an open chat ------------------------------------------------------------------
def test_a_new_visitor_has_no_open_conversation(api: Api, tenant: dict):
    assert start(api, tenant, name="Vera").json_body["open_conversation_id"] is None


def test_a_returning_visitor_gets_their_open_conversation_until_it_closes(api: Api, tenant: dict):
    vera = start(api, tenant, name="Vera").json_body
    assert start(api, tenant, visitor_token=vera["visitor_token"]).json_body["open_conversation_id"] is None
    party = Party(vera["visitor_token"])
    party.send(action="message.send", client_msg_id="v1", text="where is my parcel?")
    conversation_id = party.of_type("ack")[0]["conversation_id"]

    again = start(api, tenant, visitor_token=vera["visitor_token"]).json_body
    assert again["visitor_id"] == vera["visitor_id"] and again["open_conversation_id"] == conversation_id
    # The reloaded widget resumes that chat with its fresh token.
    reloaded = Party(again["visitor_token"])
    reloaded.send(action="messages.sync", conversation_id=conversation_id, after_seq=0)
    assert [f["text"] for f in reloaded.of_type("message.new")] == ["where is my parcel?"]

    reloaded.send(action="conversation.close", conversation_id=conversation_id)
    assert start(api, tenant, visitor_token=vera["visitor_token"]).json_body["open_conversation_id"] is None


def test_an_email_match_never_hands_over_the_earlier_visitors_chat(api: Api, tenant: dict):
    vera = start(api, tenant, email="vera@example.com").json_body
    Party(vera["visitor_token"]).send(action="message.send", client_msg_id="v1", text="my order")
    recognised = start(api, tenant, email="vera@example.com").json_body
    assert recognised["returning"] is False and recognised["open_conversation_id"] is None


def test_another_tenants_widget_never_sees_the_open_conversation(api: Api, tenant: dict):
    vera = start(api, tenant).json_body
    Party(vera["visitor_token"]).send(action="message.send", client_msg_id="v1", text="hello")
    other = api.signup(name="Other", email="boss@other.com")
    fresh = start(api, other, visitor_token=vera["visitor_token"]).json_body
    assert fresh["visitor_id"] != vera["visitor_id"] and fresh["open_conversation_id"] is None


def test_openapi_describes_the_additions(api: Api):
    document = api.call("GET", "/openapi.json").json_body
    sessions = document["paths"]["/v1/widget/{widget_key}/sessions"]["post"]
    assert "403" in sessions["responses"] and "CORS" in sessions["description"]
    assert "CORS" in document["paths"]["/v1/surveys/{survey_token}"]["post"]["description"]
    schema = sessions["responses"]["201"]["content"]["application/json"]["schema"]["$ref"].rsplit("/", 1)[1]
    assert "open_conversation_id" in document["components"]["schemas"][schema]["required"]
    assert "items" in document["components"]["schemas"]["QueueList"]["properties"]
