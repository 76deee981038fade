"""The $connect, $disconnect and $default handlers as Lambda runs them, on moto."""
from __future__ import annotations

import json

import pytest

import app as app_module
from devstack.harness import Api, Party, agent, connect, frames_sent, visitor, ws_event
from tests.helpers import all_items, allow_origins, use_limits, without_rate_limits


@pytest.fixture
def tenant(api: Api, tenant: dict) -> dict:
    """The shared tenant, with a visitor session."""
    tenant["visitor"] = api.call("POST", f"/v1/widget/{tenant['widget_key']}/sessions", {}).json_body
    return tenant


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


def test_every_refusal_at_connect_answers_with_its_code(api: Api, tenant: dict):
    # As an origin refused (403 origin_not_allowed) or a visitor at their limit (429 too_many_connections).
    for token in (None, "garbage", tenant["api_key"]):
        assert connect("c=", token) == {"statusCode": 401, "body": "unauthorized"}, token


# --- Origins ------------------------------------------------------------------------------
@pytest.mark.parametrize("name", ["Origin", "origin", "ORIGIN"])
@pytest.mark.parametrize("origin", ["https://shop.example", "HTTPS://Shop.Example:443", "http://localhost:3000"])
def test_a_listed_origin_connects_whatever_the_header_case(api: Api, tenant: dict, name: str, origin: str):
    allow_origins(api, tenant, ["https://shop.example", "http://LOCALHOST:3000"])
    for token in (tenant["visitor"]["visitor_token"], tenant["admin_token"]):
        assert connect("c=", token, {name: origin})["statusCode"] == 200, (name, origin)


@pytest.mark.parametrize("name", ["Origin", "origin"])
@pytest.mark.parametrize("origin", ["https://evil.example", "http://shop.example", "https://shop.example:8443",
                                    "https://shop.example.evil.example", "null", ""])
def test_an_unlisted_origin_is_refused_with_403_and_records_nothing(api: Api, tenant: dict, caplog,
                                                                    name: str, origin: str):
    allow_origins(api, tenant, ["https://shop.example"])
    for token in (tenant["visitor"]["visitor_token"], tenant["admin_token"]):
        with caplog.at_level("WARNING", logger="switchboard.origins"):
            refused = connect("c=", token, {name: origin})
        assert refused == {"statusCode": 403, "body": "origin_not_allowed"}, (name, origin)
        [line] = [r.getMessage() for r in caplog.records if r.name == "switchboard.origins"]
        assert tenant["tenant_id"] in line and token not in line
        caplog.clear()
    assert connections() == []


def test_no_origin_header_is_not_a_browser_and_connects(api: Api, tenant: dict):
    allow_origins(api, tenant, ["https://shop.example"])
    assert connect("visitor-conn=", tenant["visitor"]["visitor_token"], {"User-Agent": "curl/8"})["statusCode"] == 200
    assert connect("agent-conn=", tenant["admin_token"])["statusCode"] == 200
    assert len(connections()) == 2


def test_the_apps_own_origin_connects_even_when_the_list_is_set(api: Api, tenant: dict):
    # conftest's SWITCHBOARD_PUBLIC_URL is https://test.execute-api.us-east-1.amazonaws.com/api.
    allow_origins(api, tenant, ["https://shop.example"])
    own = "https://test.execute-api.us-east-1.amazonaws.com"
    for origin in (own, own.upper().replace("HTTPS", "https") + ":443"):
        assert connect("agent-conn=", tenant["admin_token"], {"origin": origin})["statusCode"] == 200
        assert connect("visitor-conn=", tenant["visitor"]["visitor_token"], {"Origin": origin})["statusCode"] == 200
    assert connect("c=", tenant["admin_token"], {"Origin": "http://test.execute-api.us-east-1.amazonaws.com"}
                   )["statusCode"] == 403  # another scheme is another origin


def test_an_empty_list_allows_any_origin(tenant: dict):
    for n, origin in enumerate(["https://anywhere.example", "http://127.0.0.1:5500", "null"]):
        assert connect(f"c{n}=", tenant["visitor"]["visitor_token"], {"Origin": origin})["statusCode"] == 200


def test_a_bad_token_is_401_whatever_the_origin(api: Api, tenant: dict):
    allow_origins(api, tenant, ["https://shop.example"])
    assert connect("c=", "garbage", {"Origin": "https://evil.example"})["statusCode"] == 401
    assert connect("c=", None, {"Origin": "https://shop.example"})["statusCode"] == 401


def test_another_tenants_list_does_not_apply(api: Api, tenant: dict):
    other = api.signup(name="Other", email="boss@other.com")
    other["admin_token"] = api.login(other["tenant_id"], "boss@other.com")
    allow_origins(api, other, ["https://other.example"])
    allow_origins(api, tenant, ["https://shop.example"])
    visitor_token = tenant["visitor"]["visitor_token"]
    assert connect("c=", visitor_token, {"Origin": "https://other.example"})["statusCode"] == 403
    assert connect("c=", visitor_token, {"Origin": "https://shop.example"})["statusCode"] == 200


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
    ('{"action": "ping", "pad": ' + "[" * 10000 + "]" * 10000 + "}", "invalid_frame", None),
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


# --- History syncs answer in bounded pages ------------------------------------------------------
@pytest.fixture
def decryptions(monkeypatch) -> list[int]:
    """Messages opened for each sync frame (the cost a page bounds), one count per frame handled."""
    from chalicelib.conversations import message_store, messages

    counts: list[int] = []
    reveal, replay = message_store.reveal, messages.replay

    def counting_reveal(*args, **kwargs):
        counts[-1] += 1
        return reveal(*args, **kwargs)

    def counting_replay(*args, **kwargs):
        counts.append(0)
        return replay(*args, **kwargs)

    monkeypatch.setattr(message_store, "reveal", counting_reveal)
    monkeypatch.setattr(messages, "replay", counting_replay)
    return counts


def long_chat(api: Api, tenant: dict, messages: int) -> tuple[Party, str]:
    use_limits(messages_per_second=10_000, ws_frames_per_second=10_000)  # seeding, not abuse
    vera = visitor(api, tenant, name="Vera")
    vera.send(action="message.send", client_msg_id="m1", text="message 1")
    conversation_id = vera.of_type("ack")[0]["conversation_id"]
    for n in range(2, messages + 1):
        vera.send(action="message.send", conversation_id=conversation_id, client_msg_id=f"m{n}", text=f"message {n}")
    vera.new_frames()
    return vera, conversation_id


def follow_pages(party: Party, conversation_id: str, first: list[dict] | None = None) -> list[list[dict]]:
    """What a client does: sync, and again from last_seq while sync.done says it is not complete."""
    pages, after = [], 0
    while True:
        if first is None:
            party.send(action="messages.sync", conversation_id=conversation_id, after_seq=after)
        page, first = first if first is not None else party.new_frames(), None
        pages.append(page)
        assert page[-1]["type"] == "sync.done", page[-1]
        if page[-1]["complete"]:
            return pages
        after = page[-1]["last_seq"]


def test_a_long_history_syncs_in_bounded_pages_the_client_follows(api: Api, tenant: dict, decryptions):
    from chalicelib.conversations.message_store import SYNC_PAGE

    vera, conversation_id = long_chat(api, tenant, 2 * SYNC_PAGE + 7)
    pages = follow_pages(vera, conversation_id)
    assert [len(page) - 1 for page in pages] == [SYNC_PAGE, SYNC_PAGE, 7]
    assert decryptions == [SYNC_PAGE, SYNC_PAGE, 7]  # no frame opens more than a page
    assert [page[-1]["last_seq"] for page in pages] == [SYNC_PAGE, 2 * SYNC_PAGE, 2 * SYNC_PAGE + 7]
    messages = [frame for page in pages for frame in page[:-1]]
    assert [(m["type"], m["seq"], m["text"]) for m in messages] == \
        [("message.new", n, f"message {n}") for n in range(1, 2 * SYNC_PAGE + 8)]


def test_an_agent_assigned_a_long_chat_gets_its_first_page_and_syncs_the_rest(api: Api, tenant: dict):
    from chalicelib.conversations.message_store import SYNC_PAGE

    vera, conversation_id = long_chat(api, tenant, SYNC_PAGE + 3)  # nobody online: it waits in the queue
    sam = agent(api, tenant, "sam@acme.com")
    sam.send(action="presence.set", status="online")
    # After the assignment, the transcript's first page and a sync.done that asks for more (then the
    # answer to presence.set).
    arrived = [frame for frame in sam.new_frames() if frame.get("conversation_id") == conversation_id]
    assert arrived[0]["type"] == "conversation.assigned"
    pages = follow_pages(sam, conversation_id, first=arrived[1:])
    assert [len(page) - 1 for page in pages] == [SYNC_PAGE, 3]
    assert [m["seq"] for page in pages for m in page[:-1]] == list(range(1, SYNC_PAGE + 4))
