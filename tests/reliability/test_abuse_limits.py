"""Abuse limits, each with a clear error: 429 `rate_limited` with Retry-After on REST; on the WebSocket
an error frame (the connection kept), or for connect a 429 refusal with its own code. A refused
action writes nothing (rate-limit counters aside)."""
from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor

import pytest

from chalicelib.storage.conversations import ConversationModel
from devstack.harness import Api, Party, agent, connect, disconnect, frames_sent, sign_up, visitor, widget_session
from tests.helpers import all_items, use_limits, without_rate_limits

pytestmark = pytest.mark.frozen_clock


def error_frame(party: Party) -> dict:
    """The one error frame among the frames the party has not seen yet."""
    [error] = [frame for frame in party.new_frames() if frame["type"] == "error"]
    return error


# --- Messages per sender per conversation per second ----------------------------------------------
def test_messages_past_the_per_second_limit_get_an_error_frame_and_store_nothing(api: Api, tenant: dict, clock):
    use_limits(messages_per_second=3)
    vera = visitor(api, tenant, name="Vera")
    for n in range(3):
        vera.send(action="message.send", client_msg_id=f"v{n}", text=f"message {n}")
    acks = vera.of_type("ack")
    assert [ack["seq"] for ack in acks] == [1, 2, 3]
    before = without_rate_limits(all_items())
    vera.send(action="message.send", conversation_id=acks[0]["conversation_id"], client_msg_id="v3", text="more")
    error = error_frame(vera)
    assert (error["code"], error["ref"], error["retry_after"]) == ("rate_limited", "v3", 1)
    assert without_rate_limits(all_items()) == before
    # The connection is kept, and a retry of a message already stored is acked as ever.
    vera.send(action="ping")
    vera.send(action="message.send", conversation_id=acks[0]["conversation_id"], client_msg_id="v1", text="message 1")
    assert vera.new_frames() == [{"type": "pong"}, acks[1]]
    clock.advance(1)
    vera.send(action="message.send", conversation_id=acks[0]["conversation_id"], client_msg_id="v3", text="more")
    assert [ack["seq"] for ack in vera.of_type("ack")] == [4]


def test_each_party_has_its_own_window_and_the_bot_is_never_limited(api: Api, tenant: dict, clock):
    use_limits(messages_per_second=2)
    sam = agent(api, tenant, "sam@acme.com")
    sam.send(action="presence.set", status="online")
    vera = visitor(api, tenant, name="Vera")
    vera.send(action="message.send", client_msg_id="v0", text="hello")
    vera.send(action="message.send", client_msg_id="v1", text="anyone?")
    conversation_id = vera.of_type("ack")[0]["conversation_id"]
    for n in range(2):
        sam.send(action="message.send", conversation_id=conversation_id, client_msg_id=f"s{n}", text="hi")
    assert [ack["seq"] for ack in sam.of_type("ack")] == [3, 4]
    sam.send(action="message.send", conversation_id=conversation_id, client_msg_id="s2", text="hi")
    assert error_frame(sam)["code"] == "rate_limited"


@pytest.fixture
def dynamodb_calls(monkeypatch) -> list[str]:
    """Every DynamoDB request made from here on, by any client (pynamodb's or boto3's), by operation."""
    from botocore.client import BaseClient

    calls: list[str] = []
    make_api_call = BaseClient._make_api_call

    def recording(self, operation_name, api_params):
        if self.meta.service_model.service_name == "dynamodb":
            calls.append(operation_name)
        return make_api_call(self, operation_name, api_params)

    monkeypatch.setattr(BaseClient, "_make_api_call", recording)
    return calls


def test_the_limits_add_no_dynamodb_request_to_a_message(api: Api, tenant: dict, clock, dynamodb_calls):
    vera = visitor(api, tenant, name="Vera")
    vera.send(action="message.send", client_msg_id="v0", text="hello")
    conversation_id = vera.of_type("ack")[0]["conversation_id"]
    clock.advance(1)  # the connection's first frame of this second
    dynamodb_calls.clear()
    vera.send(action="message.send", conversation_id=conversation_id, client_msg_id="v1", text="again")
    # The connection (its frame counted by the read), conversation, the latest message (the message
    # limit is counted from it), the client_msg_id's claim and the message, and who to deliver to
    # (visitor; no agent yet): the limits add none.
    assert sorted(dynamodb_calls) == ["GetItem", "PutItem", "PutItem", "Query", "Query", "UpdateItem"]


# --- Frames per WebSocket connection ----------------------------------------------------------------
def test_a_frame_is_counted_by_the_one_request_that_reads_its_connection(api: Api, tenant: dict, clock,
                                                                        dynamodb_calls):
    from chalicelib.ratelimit import SLOTS

    use_limits(ws_frames_per_second=3)
    vera = visitor(api, tenant, name="Vera")
    vera.send(action="ping")
    # The next second, then frames within one second (the last one refused), then one a few seconds on,
    # then one 20 seconds on: each costs the UpdateItem that replaced the GetItem, nothing more.
    for advance in (1, 0, 0, 0, 4, 20):
        clock.advance(advance)
        dynamodb_calls.clear()
        vera.send(action="ping")
        assert dynamodb_calls == ["UpdateItem"], advance
    # Exactly a multiple of SLOTS seconds after the previous frame, the count starts afresh: one more.
    clock.advance(2 * SLOTS)
    dynamodb_calls.clear()
    vera.send(action="ping")
    assert dynamodb_calls == ["UpdateItem", "UpdateItem"]
    assert [frame["type"] for frame in vera.new_frames()] == ["pong"] * 4 + ["error"] + ["pong"] * 3


def test_a_count_left_from_whole_slot_cycles_ago_never_refuses_a_frame(api: Api, tenant: dict, clock):
    from chalicelib.ratelimit import SLOTS

    use_limits(ws_frames_per_second=2)
    vera = visitor(api, tenant, name="Vera")
    clock.advance(1)
    for _ in range(3):  # this second's slot full, and one refused
        vera.send(action="ping")
    clock.advance(SLOTS)  # the same slot, a cycle later, with nothing in between to clear it
    for _ in range(3):
        vera.send(action="ping")
    assert [frame["type"] for frame in vera.new_frames()] == ["pong", "pong", "error"] * 2


def _frames_of_every_action(conversation_id: str) -> dict[str, dict]:
    """One valid frame of each action; a test fails here when an action is added without one."""
    from chalicelib.realtime.frames import ACTIONS

    examples = {
        "message.send": {"conversation_id": conversation_id, "client_msg_id": "flood", "text": "again"},
        "typing": {"conversation_id": conversation_id, "state": "on"},
        "read": {"conversation_id": conversation_id, "seq": 1},
        "presence.set": {"status": "online"},
        "conversation.close": {"conversation_id": conversation_id, "resolution": "resolved"},
        "handoff.request": {"conversation_id": conversation_id},
        "conversation.transfer": {"conversation_id": conversation_id, "to_team": "billing"},
        "conversation.escalate": {"conversation_id": conversation_id},
        "messages.sync": {"conversation_id": conversation_id, "after_seq": 0},
        "ping": {},
    }
    assert examples.keys() == ACTIONS
    return {action: {"action": action, **fields} for action, fields in examples.items()}


@pytest.mark.parametrize("action", ["message.send", "typing", "read", "presence.set", "conversation.close",
                                    "handoff.request", "conversation.transfer", "conversation.escalate",
                                    "messages.sync", "ping"])
def test_a_flood_of_any_action_gets_rate_limited_frames_and_the_connection_stays_open(
        api: Api, tenant: dict, clock, action: str):
    from chalicelib.conversations.websocket import DISPATCH

    use_limits(ws_frames_per_second=3)
    sam = agent(api, tenant, "sam@acme.com", teams=["billing"])
    sam.send(action="presence.set", status="online")
    vera = visitor(api, tenant, name="Vera")
    vera.send(action="message.send", client_msg_id="v0", text="hello")
    conversation_id = vera.of_type("ack")[0]["conversation_id"]
    frame = _frames_of_every_action(conversation_id)[action]
    party = sam if DISPATCH[action][0] == "agent" else vera
    clock.advance(1)
    party.new_frames()
    for _ in range(3):  # the limit: each is handled, whatever it answers
        party.send(**frame)
    handled = party.new_frames()
    assert not [f for f in handled if f.get("code") == "rate_limited"], handled
    before = without_rate_limits(all_items())
    others = {p.connection_id: len(frames_sent(p.connection_id)) for p in (sam, vera) if p is not party}
    for _ in range(5):  # past it: refused before anything is done
        party.send(**frame)
    refused = party.new_frames()
    assert [(f["type"], f["code"], f["ref"], f["retry_after"]) for f in refused] == \
        [("error", "rate_limited", frame.get("client_msg_id", action), 1)] * 5
    assert all(f.get("conversation_id") == frame.get("conversation_id") for f in refused)
    assert without_rate_limits(all_items()) == before
    assert {c: len(frames_sent(c)) for c in others} == others  # nothing relayed to the other party
    # The connection is kept; after the second, it works again.
    clock.advance(1)
    party.send(action="ping")
    party.send(**frame)
    after = party.new_frames()
    assert after[0] == {"type": "pong"} and not [f for f in after if f.get("code") == "rate_limited"]


def test_racing_frames_of_one_connection_get_exactly_the_limit(api: Api, tenant: dict, clock):
    from chalicelib.ratelimit import SLOTS

    use_limits(ws_frames_per_second=5)
    vera = visitor(api, tenant, name="Vera")
    vera.send(action="ping")
    vera.new_frames()
    for advance in (1, SLOTS):  # a fresh second, then the same slot a cycle later (each racer finds it stale)
        clock.advance(advance)
        with ThreadPoolExecutor(8) as pool:
            list(pool.map(lambda _: vera.send(action="ping"), range(12)))
        answers = [frame.get("code", frame["type"]) for frame in vera.new_frames()]
        assert sorted(answers) == ["pong"] * 5 + ["rate_limited"] * 7, advance


@pytest.mark.e2e
def test_a_flood_on_the_local_stack_is_held_per_connection_and_the_connection_kept(stack):
    """The default limit on `make dev`'s stack: pings as fast as a client can send them."""
    import json

    from websockets.sync.client import connect

    from chalicelib.config import get_config

    flood_size, limit = 300, get_config().ws_frames_per_second  # the stack runs with the default
    token = sign_up(stack, name="Flooded", admin_email="admin@flooded.example")["visitor"]["visitor_token"]
    with connect(f"{stack.ws}/?token={token}", open_timeout=10) as flood, \
            connect(f"{stack.ws}/?token={token}", open_timeout=10) as other:
        started = time.monotonic()
        for _ in range(flood_size):
            flood.send(json.dumps({"action": "ping"}))
        answers = [json.loads(flood.recv(timeout=30)) for _ in range(flood_size)]
        seconds = time.monotonic() - started
        refused = [a for a in answers if a.get("code") == "rate_limited"]
        pongs = answers.count({"type": "pong"})
        assert pongs + len(refused) == flood_size and refused
        assert pongs <= limit * (int(seconds) + 2)  # at most the limit in each second the flood spanned
        assert all(a["ref"] == "ping" and a["retry_after"] >= 1 for a in refused)
        other.send(json.dumps({"action": "ping"}))  # the visitor's other connection has its own window
        assert json.loads(other.recv(timeout=10)) == {"type": "pong"}
        deadline = time.monotonic() + 30
        while True:  # the flooded connection is still open and answers once its second has passed
            flood.send(json.dumps({"action": "ping"}))
            answer = json.loads(flood.recv(timeout=10))
            if answer == {"type": "pong"}:
                break
            assert time.monotonic() < deadline, answer
            time.sleep(answer["retry_after"])  # the server says how long the window lasts
    print(f"\nflood on the local stack: {flood_size} pings in {seconds:.1f} s on one connection, {pongs} "
          f"answered, {len(refused)} rate_limited (SWITCHBOARD_WS_FRAMES_PER_SECOND={limit}); connection kept")


def test_each_connection_has_its_own_frame_window(api: Api, tenant: dict, clock):
    use_limits(ws_frames_per_second=2)
    token = visitor_token(api, tenant)
    first, second = Party(token), Party(token)
    for _ in range(3):
        first.send(action="ping")
    assert [f["type"] for f in first.new_frames()] == ["pong", "pong", "error"]
    second.send(action="ping")
    assert second.new_frames() == [{"type": "pong"}]


# --- Requests per tenant ---------------------------------------------------------------------------
def test_a_tenants_requests_past_the_limit_are_429_for_every_credential_of_that_tenant_only(
        api: Api, tenant: dict, clock):
    use_limits(tenant_requests_per_minute=4)
    other = api.signup(name="Other", email="boss@other.com")
    other_token = api.login(other["tenant_id"], "boss@other.com")
    for token in (tenant["admin_token"], tenant["api_key"]) * 2:
        assert api.call("GET", "/v1/me", token=token).status_code == 200
    before = without_rate_limits(all_items())
    for token in (tenant["admin_token"], tenant["api_key"]):
        refused = api.call("POST", "/v1/faq", {"question": "q?", "answer": "a"}, token=token)
        assert refused.status_code == 429 and refused.json_body["error"]["code"] == "rate_limited"
        assert 1 <= int(refused.headers["Retry-After"]) <= 61
    assert without_rate_limits(all_items()) == before
    assert api.call("GET", "/v1/me", token=other_token).status_code == 200
    clock.advance(60)
    assert api.call("GET", "/v1/me", token=tenant["admin_token"]).status_code == 200


def test_unauthenticated_requests_do_not_count_against_a_tenant(api: Api, tenant: dict):
    use_limits(tenant_requests_per_minute=1)
    for _ in range(3):
        assert api.call("GET", "/v1/me", token="garbage").status_code == 401
    assert api.call("GET", "/v1/me", token=tenant["admin_token"]).status_code == 200


# --- Widget sessions per source IP (the existing limit, now configurable) --------------------------
def test_widget_sessions_past_the_per_ip_limit_are_429_and_create_no_visitor(api: Api, tenant: dict):
    use_limits(widget_sessions_per_minute=2)
    path = f"/v1/widget/{tenant['widget_key']}/sessions"
    for _ in range(2):
        assert api.call("POST", path, {}).status_code == 201
    before = without_rate_limits(all_items())
    refused = api.call("POST", path, {"name": "Eve"})
    assert refused.status_code == 429 and refused.json_body["error"]["code"] == "rate_limited"
    assert int(refused.headers["Retry-After"]) >= 1
    assert without_rate_limits(all_items()) == before


# --- Connections per visitor ----------------------------------------------------------------------
def visitor_token(api: Api, tenant: dict) -> str:
    return widget_session(api, tenant).json_body["visitor_token"]


def test_a_visitor_past_the_connection_limit_is_refused_at_connect_and_nothing_is_written(api: Api, tenant: dict):
    use_limits(connections_per_visitor=3)
    token = visitor_token(api, tenant)
    assert [connect(f"c{n}=", token)["statusCode"] for n in range(3)] == [200, 200, 200]
    before = without_rate_limits(all_items())
    assert connect("c3=", token) == {"statusCode": 429, "body": "too_many_connections"}
    assert without_rate_limits(all_items()) == before
    disconnect("c0=")
    assert connect("c3=", token)["statusCode"] == 200
    # Another visitor and agents are counted apart.
    assert connect("other=", visitor_token(api, tenant))["statusCode"] == 200
    assert [connect(f"a{n}=", tenant["admin_token"])["statusCode"] for n in range(4)] == [200] * 4


def test_racing_connects_never_exceed_the_limit(api: Api, tenant: dict):
    use_limits(connections_per_visitor=3)
    token = visitor_token(api, tenant)
    with ThreadPoolExecutor(8) as pool:
        statuses = list(pool.map(lambda n: connect(f"r{n}=", token)["statusCode"], range(8)))
    assert sorted(statuses) == [200] * 3 + [429] * 5
    connections = all_items()["switchboard-test-connections"]
    assert len(connections) == 3


def test_a_disconnect_that_never_came_does_not_lock_a_visitor_out(api: Api, tenant: dict):
    import boto3

    use_limits(connections_per_visitor=2)
    token = visitor_token(api, tenant)
    assert [connect(f"c{n}=", token)["statusCode"] for n in range(2)] == [200, 200]
    # API Gateway lost c0's $disconnect; its record expired and TTL removed it, the count stayed.
    boto3.client("dynamodb").delete_item(TableName="switchboard-test-connections",
                                         Key={"connection_id": {"S": "c0="}})
    assert connect("c2=", token)["statusCode"] == 200
    assert connect("c3=", token)["statusCode"] == 429


def test_a_second_disconnect_of_one_connection_gives_back_one_place_only(api: Api, tenant: dict):
    use_limits(connections_per_visitor=2)
    token = visitor_token(api, tenant)
    assert [connect(f"c{n}=", token)["statusCode"] for n in range(2)] == [200, 200]
    disconnect("c0=")
    disconnect("c0=")  # API Gateway delivers at least once
    assert [connect(f"d{n}=", token)["statusCode"] for n in range(2)] == [200, 429]


# --- Open conversations per visitor ---------------------------------------------------------------
def test_two_tabs_racing_first_messages_open_one_conversation(api: Api, tenant: dict):
    token = visitor_token(api, tenant)
    tabs = [Party(token) for _ in range(4)]
    with ThreadPoolExecutor(4) as pool:
        list(pool.map(lambda n: tabs[n].send(action="message.send", client_msg_id=f"t{n}", text="hi"), range(4)))
    acks = [ack for tab in tabs for ack in tab.of_type("ack")]
    assert len(acks) == 4 and len({ack["conversation_id"] for ack in acks}) == 1
    assert sorted(ack["seq"] for ack in acks) == [1, 2, 3, 4]
    assert len(list(ConversationModel.query(tenant["tenant_id"]))) == 1


def test_a_tab_making_the_visitors_key_after_another_tab_opened_joins_that_conversation(
        api: Api, tenant: dict, monkeypatch):
    from chalicelib.transcripts.keys import KeyRing

    token = visitor_token(api, tenant)
    first, second = Party(token), Party(token)
    load = KeyRing._load_visitor_key

    def first_tab_opens_meanwhile(self, visitor, version, create):
        # The second tab read the visitor (no conversation yet); the first opens one before the
        # second makes the visitor's key, which re-reads the visitor item it holds.
        monkeypatch.setattr(KeyRing, "_load_visitor_key", load)
        first.send(action="message.send", client_msg_id="t1", text="hi")
        return load(self, visitor, version, create)

    monkeypatch.setattr(KeyRing, "_load_visitor_key", first_tab_opens_meanwhile)
    second.send(action="message.send", client_msg_id="t2", text="me too")
    [one], [two] = first.of_type("ack"), second.of_type("ack")
    assert (two["conversation_id"], two["seq"]) == (one["conversation_id"], 2)
    assert len(list(ConversationModel.query(tenant["tenant_id"]))) == 1


def test_a_lagging_index_never_opens_a_second_conversation(api: Api, tenant: dict, monkeypatch):
    from chalicelib.conversations import opening

    token = visitor_token(api, tenant)
    first, second = Party(token), Party(token)
    first.send(action="message.send", client_msg_id="t1", text="hi")
    # visitor-index is a global index: a conversation opened a moment ago may not be in it yet.
    monkeypatch.setattr(opening, "current_conversation", lambda tenant_id, visitor_id: None)
    second.send(action="message.send", client_msg_id="t2", text="still there?")
    [one], [two] = first.of_type("ack"), second.of_type("ack")
    assert one["conversation_id"] == two["conversation_id"] and two["seq"] == 2


def test_new_conversations_past_the_hourly_limit_get_an_error_frame_and_store_nothing(
        api: Api, tenant: dict, clock):
    use_limits(conversations_per_visitor_per_hour=2)
    vera = Party(visitor_token(api, tenant))
    for n in range(2):
        vera.send(action="message.send", client_msg_id=f"v{n}", text="hello")
        [ack] = vera.of_type("ack")
        vera.send(action="conversation.close", conversation_id=ack["conversation_id"])
    vera.new_frames()
    before = without_rate_limits(all_items())
    vera.send(action="message.send", client_msg_id="v2", text="hello again")
    error = error_frame(vera)
    assert (error["code"], error["ref"]) == ("rate_limited", "v2") and 1 <= error["retry_after"] <= 3601
    assert without_rate_limits(all_items()) == before
    clock.advance(3600)
    vera.send(action="message.send", client_msg_id="v2", text="hello again")
    assert [ack["seq"] for ack in vera.of_type("ack")] == [1]
