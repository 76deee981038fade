"""Sessions and headers: security headers and CORS on every kind of REST answer, sessions that end
(deactivation, a password or role change, logout) end their live WebSockets too, and no secret reaches a log.

The WebSocket Origin check (refused, allowed, no Origin) is covered by tests/functional/test_websocket.py;
CORS answers of the public routes in detail by tests/functional/test_widget.py."""
from __future__ import annotations

import logging
import re
from urllib.parse import quote

import boto3
import pytest

from chalicelib.system.middleware import SECURITY_HEADERS
from devstack.harness import Api, Party, frames_sent, run_job
from tests.helpers import header

# Scripts and styles are cached by browsers on purpose (chalicelib/web/pages.py); everything else is no-store.
CACHED = re.compile(r"^/(widget\.js|survey\.js|assets/.*)$")


def assert_security_headers(response, what: str, path: str = "") -> None:
    for name, value in SECURITY_HEADERS.items():
        if name == "Cache-Control" and CACHED.match(path) and response.status_code == 200:
            assert header(response, name).startswith("public, max-age="), what
            continue
        assert header(response, name) == value, (what, name, response.status_code)


# --- Security headers and CORS --------------------------------------------------------------------
def test_every_route_in_the_openapi_document_answers_with_the_security_headers(api: Api, tenant: dict):
    paths = api.call("GET", "/openapi.json").json_body["paths"]
    tried = 0
    for path, operations in paths.items():
        concrete = re.sub(r"\{[^}]+\}", "x_1", path)
        for method in operations:
            if method not in ("get", "post", "put", "patch", "delete"):
                continue
            for token in (None, "garbage", tenant["admin_token"]):
                response = api.call(method.upper(), concrete, {}, token=token)
                assert response.status_code < 500, (method, path, response.body)
                assert_security_headers(response, f"{method} {path}", path)
                tried += 1
    assert tried >= 3 * 40  # every route, unauthenticated, with a bad token and as an admin


@pytest.mark.parametrize("what, method, path, kwargs, status", [
    ("json", "GET", "/health", {}, 200),
    ("page", "GET", "/app", {}, 200),
    ("script", "GET", "/widget.js", {}, 200),
    ("bad json", "POST", "/v1/tenants", {"raw": "{oops"}, 400),
    ("too large", "POST", "/v1/tenants", {"raw": "x" * 70_000}, 413),
    ("wrong media type", "POST", "/v1/tenants", {"raw": "a", "headers": {"Content-Type": "text/plain"}}, 415),
    ("wrong method", "DELETE", "/v1/tenants", {}, 405),
])
def test_every_kind_of_answer_carries_the_security_headers(api: Api, what: str, method: str, path: str,
                                                           kwargs: dict, status: int):
    response = api.call(method, path, **kwargs)
    assert response.status_code == status, (what, response.body)
    assert_security_headers(response, what, path)


def test_rate_limited_answers_carry_the_security_headers_and_retry_after(api: Api, tenant: dict):
    login = {"tenant_id": tenant["tenant_id"], "email": "admin@acme.com", "password": "wrong password!"}
    answers = [api.call("POST", "/v1/auth/login", login) for _ in range(25)]
    limited = answers[-1]
    assert limited.status_code == 429 and int(header(limited, "Retry-After")) >= 1
    assert_security_headers(limited, "429")


def test_cors_only_on_the_public_routes_pages_call(api: Api, tenant: dict):
    shop = {"Origin": "https://shop.example"}
    public = api.call("POST", f"/v1/widget/{tenant['widget_key']}/sessions", {}, headers=shop)
    staff = api.call("GET", "/v1/me", token=tenant["admin_token"], headers=shop)
    assert (header(public, "Access-Control-Allow-Origin") == "*"
            and header(public, "Access-Control-Allow-Credentials") is None)
    assert header(staff, "Access-Control-Allow-Origin") is None
    for response in (public, staff):
        assert_security_headers(response, "cors")


# --- Sessions that end ------------------------------------------------------------------------------
def closed_by_the_server(party: Party) -> bool:
    """API Gateway (moto's Management API) no longer has the connection: DeleteConnection was called."""
    from moto.apigatewaymanagementapi.models import apigatewaymanagementapi_backends

    backend = apigatewaymanagementapi_backends["123456789012"]["us-east-1"]
    return quote(party.connection_id, safe="") not in backend.connections


def connections_of_record() -> set[str]:
    table = boto3.client("dynamodb").scan(TableName="switchboard-test-connections")["Items"]
    return {item["connection_id"]["S"] for item in table}


def two_tabs(api: Api, tenant: dict, email: str) -> tuple[dict, str, list[Party]]:
    """An agent logged in twice (two sessions), each with a live WebSocket that has had a frame."""
    created = api.add_agent(tenant["admin_token"], email)
    tokens = [api.login(tenant["tenant_id"], email) for _ in range(2)]
    tabs = [Party(token) for token in tokens]
    for tab in tabs:
        tab.send(action="ping")
        assert tab.new_frames() == [{"type": "pong"}]
    return created, tokens[0], tabs


@pytest.mark.parametrize("how", ["deactivated", "password changed", "role changed", "logged out"])
def test_an_ended_session_is_401_on_rest_and_its_websockets_are_closed(api: Api, tenant: dict, how: str):
    sam, sam_token, tabs = two_tabs(api, tenant, "sam@acme.com")
    _, kim_token, kim_tabs = two_tabs(api, tenant, "kim@acme.com")
    if how == "deactivated":
        ended = api.call("DELETE", f"/v1/agents/{sam['agent_id']}", token=tenant["admin_token"])
    elif how == "role changed":
        ended = api.call("PATCH", f"/v1/agents/{sam['agent_id']}", {"role": "supervisor"}, token=tenant["admin_token"])
    elif how == "logged out":  # one session: that tab's; the other login's tab goes on
        ended, tabs, kim_tabs = api.call("POST", "/v1/auth/logout", token=sam_token), tabs[:1], kim_tabs + tabs[1:]
    else:
        ended = api.call("PATCH", f"/v1/agents/{sam['agent_id']}", {"password": "a brand new one"},
                         token=tenant["admin_token"])
    assert ended.status_code in (200, 204)
    assert api.call("GET", "/v1/me", token=sam_token).status_code == 401
    assert all(closed_by_the_server(tab) for tab in tabs)
    assert not {tab.connection_id for tab in tabs} & connections_of_record()
    # A frame still in flight on a closed connection is told to reconnect; reconnecting needs a session.
    tabs[0].send(action="ping")
    assert [frame["code"] for frame in frames_sent(tabs[0].connection_id)] == ["not_connected"]
    with pytest.raises(AssertionError):  # the $connect is refused (401)
        Party(sam_token)
    # Everyone else's sessions go on.
    assert api.call("GET", "/v1/me", token=kim_token).status_code == 200
    assert not any(closed_by_the_server(tab) for tab in kim_tabs)
    if how == "password changed":
        assert api.call("GET", "/v1/me", token=api.login(tenant["tenant_id"], "sam@acme.com",
                                                           "a brand new one")).status_code == 200


# --- No secret in any log ---------------------------------------------------------------------------
# The SDK's own loggers stay at WARNING whatever level the app runs at (chalicelib/runtime.py): at DEBUG
# they would print request bodies. Every other logger is at DEBUG here, the app's included.
PINNED = ("botocore", "boto3", "urllib3", "s3transfer")


def test_no_password_token_key_message_or_comment_reaches_any_log(api: Api, caplog, capsys, clock):
    from tests.functional.audit_exports import run_queued_exports

    for name in ["", *logging.root.manager.loggerDict]:
        if not name.startswith(PINNED) and not name.startswith("moto"):  # moto is AWS's side, not our logs
            caplog.set_level(logging.DEBUG, logger=name)
    secrets = {"admin password": "Adm1n-secret-pass", "agent password": "Ag3nt-secret-pass",
               "wrong password": "Wr0ng-guess-pass", "message": "PLAINTEXT-msg-7c1d", "reply": "PLAINTEXT-reply-93aa",
               "comment": "PLAINTEXT-comment-5e0f"}
    signed = api.signup(name="Logs", email="admin@logs.com", password=secrets["admin password"])
    tenant = {**signed, "admin_token": api.login(signed["tenant_id"], "admin@logs.com", secrets["admin password"])}
    api.call("PUT", "/v1/settings", {"survey_delay_seconds": 0}, token=tenant["admin_token"])
    for _ in range(3):
        assert api.call("POST", "/v1/auth/login", {"tenant_id": tenant["tenant_id"], "email": "admin@logs.com",
                                                   "password": secrets["wrong password"]}).status_code == 401
    key = api.call("POST", "/v1/api-keys", {"name": "ci", "role": "admin"}, token=tenant["admin_token"]).json_body
    api.add_agent(tenant["admin_token"], "sam@logs.com", password=secrets["agent password"])
    sam_token = api.login(tenant["tenant_id"], "sam@logs.com", secrets["agent password"])
    sam = Party(sam_token)
    sam.send(action="presence.set", status="online")
    session = api.call("POST", f"/v1/widget/{tenant['widget_key']}/sessions", {"name": "Vera"}).json_body
    vera = Party(session["visitor_token"])
    vera.send(action="message.send", client_msg_id="v1", text=secrets["message"])
    conversation_id = vera.of_type("ack")[0]["conversation_id"]
    sam.send(action="message.send", conversation_id=conversation_id, client_msg_id="s1", text=secrets["reply"])
    vera.send(action="message.send", conversation_id=conversation_id, client_msg_id="v2", text="x" * 40_000)  # refused
    sam.send(action="conversation.close", conversation_id=conversation_id, resolution="resolved")
    assert run_job("send-surveys")["websocket"] == 1
    survey_token = vera.of_type("survey.request")[0]["survey_token"]
    assert api.call("POST", f"/v1/surveys/{survey_token}",
                    {"rating": 2, "comment": secrets["comment"]}).status_code == 200
    assert api.call("GET", f"/v1/conversations/{conversation_id}/transcript?format=text",
                    token=key["api_key"]).status_code == 200
    assert api.call("GET", f"/v1/conversations/{conversation_id}/survey", token=sam_token).status_code == 200
    assert api.call("POST", "/v1/audit/exports", {"from": "2026-01-01T00:00:00Z", "to": "2100-01-01T00:00:00Z"},
                    token=tenant["admin_token"]).status_code == 202
    assert run_queued_exports() == 2  # one chunk of events, then completing the file
    clock.advance(3 * 86400)  # an expired token is refused, and logged as such
    assert api.call("GET", "/v1/me", token=sam_token).status_code == 401

    signing_key = boto3.client("secretsmanager").get_secret_value(SecretId="switchboard-test/token-signing")
    secrets.update({"admin token": tenant["admin_token"], "agent token": sam_token, "signup api key": signed["api_key"],
                    "api key": key["api_key"], "api key secret": key["api_key"].rsplit(".", 1)[1],
                    "visitor token": session["visitor_token"], "survey token": survey_token,
                    "token signing key": signing_key["SecretString"]})
    records = [r for r in caplog.records if not r.name.startswith("moto")]
    assert len(records) > 10  # the app did log: requests, refusals, jobs
    logged = "\n".join(f"{r.name} {r.getMessage()} {r.args!r} {r.exc_text or ''} {r.stack_info or ''}"
                       for r in records) + caplog.text + "".join(capsys.readouterr())
    leaked = [what for what, secret in secrets.items() if secret in logged]
    assert leaked == []
    assert all(logging.getLogger(name).getEffectiveLevel() >= logging.WARNING for name in PINNED)
