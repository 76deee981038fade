"""The $connect, $disconnect and $default handlers as Lambda runs them, on moto."""
from __future__ import annotations

import json

import pytest

import app as app_module
from tests.helpers import Api, all_items, frames_sent, without_rate_limits, ws_event


@pytest.fixture
def tenant(api: Api, tenant: dict) -> dict:
    """The shared tenant, with a visitor session."""
    tenant["visitor"] = api.call("POST", f"/v1/widget/{tenant['widget_key']}/sessions", {}).json_body
    return tenant


def connect(connection_id: str, token: str | None) -> dict:
    query = {"token": token} if token is not None else None
    return app_module.websocket_connect(ws_event("$connect", connection_id, query=query), None)


def send(connection_id: str, body: str) -> list[dict]:
    app_module.websocket_message(ws_event("$default", connection_id, body=body), None)
    return frames_sent(connection_id)


def connections() -> list[dict]:
    return all_items()["switchboard-test-connections"]


def test_connect_records_who_is_on_the_connection(tenant: dict):
    assert connect("agent-conn=", tenant["admin_token"])["statusCode"] == 200
    assert connect("visitor-conn=", tenant["visitor"]["visitor_token"])["statusCode"] == 200
    records = {item["connection_id"]["S"]: item for item in connections()}
    agent, visitor = records["agent-conn="], records["visitor-conn="]
    assert agent["tenant_id"]["S"] == tenant["tenant_id"] and agent["kind"]["S"] == "agent"
    assert agent["principal_id"]["S"] == tenant["admin"]["agent_id"] and agent["role"]["S"] == "admin"
    assert visitor["kind"]["S"] == "visitor" and visitor["principal_id"]["S"] == tenant["visitor"]["visitor_id"]
    assert int(agent["expires_at"]["N"]) > 0


def test_bad_tokens_are_refused_at_connect_and_record_nothing(api: Api, tenant: dict, clock):
    agent = api.add_agent(tenant["admin_token"], "sam@acme.com")
    sam = api.login(tenant["tenant_id"], "sam@acme.com")
    api.call("DELETE", f"/v1/agents/{agent['agent_id']}", token=tenant["admin_token"])
    for token in (None, "", "garbage", tenant["api_key"], sam):
        assert connect("c=", token)["statusCode"] == 401, token
    clock.advance(86400 + 1)
    assert connect("c=", tenant["visitor"]["visitor_token"])["statusCode"] == 401
    assert connections() == []


def test_disconnect_forgets_the_connection(tenant: dict):
    connect("c=", tenant["admin_token"])
    app_module.websocket_disconnect(ws_event("$disconnect", "c="), None)
    assert connections() == []


def test_ping_is_answered_with_pong(tenant: dict):
    connect("c=", tenant["visitor"]["visitor_token"])
    assert send("c=", json.dumps({"action": "ping"})) == [{"type": "pong"}]


@pytest.mark.parametrize("body, code, ref", [
    ("{nope", "invalid_json", None),
    ("[]", "invalid_frame", None),
    ('"ping"', "invalid_frame", None),
    ('{"type": "ping"}', "unknown_action", None),
    ('{"action": "teleport"}', "unknown_action", "teleport"),
    ('{"action": 7}', "unknown_action", None),
    ('{"action": "message.send", "client_msg_id": "m1", "text": ""}', "invalid_frame", "m1"),
    ('{"action": "message.send", "client_msg_id": "m1", "text": 42}', "invalid_frame", "m1"),
    ('{"action": "message.send", "client_msg_id": "m1", "text": "' + "x" * 4001 + '"}', "invalid_frame", "m1"),
    ('{"action": "presence.set", "status": "asleep"}', "invalid_frame", "presence.set"),
    ('{"action": "ping", "extra": true}', "invalid_frame", "ping"),
    ('{"action": "conversation.transfer", "conversation_id": "c1"}', "invalid_frame", "conversation.transfer"),
    ('{"action": "ping", "pad": "' + "x" * 33000 + '"}', "frame_too_large", None),
])
def test_bad_frames_get_an_error_frame_and_change_nothing(tenant: dict, body: str, code: str, ref):
    connect("c=", tenant["admin_token"])
    before = without_rate_limits(all_items())
    [reply] = send("c=", body)
    assert reply["type"] == "error" and reply["code"] == code and reply["ref"] == ref, reply
    assert reply["message"]
    assert without_rate_limits(all_items()) == before


def test_a_frame_on_an_unknown_connection_is_told_to_reconnect(tenant: dict):
    [reply] = send("never-connected=", json.dumps({"action": "ping"}))
    assert reply["code"] == "not_connected"
