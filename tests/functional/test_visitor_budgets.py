"""Visitors have budgets of their own: a flood minted with a tenant's public widget key is refused
(429, `rate_limited` or `widget_busy`) while the tenant's agents and admins are never throttled by it.
Budgets: REST requests per visitor and per source address (IPv6 by /64), widget sessions per source,
new visitors per tenant, and visitor conversations waiting for or with a person per tenant."""
from __future__ import annotations

from contextlib import ExitStack

import pytest

from chalicelib.access.visitor_limits import source_key
from chalicelib.storage.conversations import ConversationModel
from chalicelib.storage.tenants import TenantModel
from chalicelib.storage.visitors import VisitorModel
from devstack.harness import Api, Party, agent, visitor, widget_session
from tests.helpers import FrozenClock, all_items, from_source, me, use_limits, without_rate_limits


@pytest.fixture
def clock() -> FrozenClock:
    return FrozenClock()


@pytest.fixture
def from_address():
    """Requests come from this source address until the next call (or the test's end)."""
    with ExitStack() as sources:
        yield lambda address: sources.enter_context(from_source(address))


# --- Staff are never throttled by visitors ----------------------------------------------------------
def test_a_visitor_flood_is_refused_while_staff_keep_working(api: Api, tenant: dict, clock, from_address):
    """Before, visitors spent their tenant's one budget: this flood took every agent to 429."""
    use_limits(tenant_requests_per_minute=40, visitor_requests_per_minute=5, visitor_source_requests_per_minute=40,
               widget_sessions_per_minute=1000, tenant_new_visitors_per_minute=10)
    api.add_agent(tenant["admin_token"], "sam@acme.com")
    sam = api.login(tenant["tenant_id"], "sam@acme.com")
    staff = {"sent": 0, "refused": 0}
    visitors = {"sent": 0, "refused": 0, "sessions_refused": 0}

    def staff_call() -> None:
        for method, path, token in (("GET", "/v1/me", sam), ("POST", "/v1/auth/refresh", sam),
                                    ("GET", "/v1/me", tenant["admin_token"])):
            staff["sent"] += 1
            staff["refused"] += api.call(method, path, token=token).status_code != 200

    tokens = []
    for n in range(15):  # visitors from many addresses: the per-tenant ceiling on new visitors holds them
        from_address(f"198.51.100.{n}")
        started = widget_session(api, tenant)
        if started.status_code == 201:
            tokens.append(started.json_body["visitor_token"])
        else:
            assert started.status_code == 429 and started.json_body["error"]["code"] == "widget_busy"
            visitors["sessions_refused"] += 1
    staff_call()
    from_address("198.51.100.200")
    for _ in range(10):  # each visitor, from one address: past 5 each, then past 40 together
        for token in tokens:
            visitors["sent"] += 1
            status = me(api, token)
            assert status in (200, 429)
            visitors["refused"] += status == 429
        staff_call()
    print(f"\nflood: {visitors['sent']} visitor GET /v1/me, {visitors['refused']} refused; "
          f"{visitors['sessions_refused']} of 15 new sessions refused (widget_busy); "
          f"{staff['sent']} staff requests, {staff['refused']} refused")
    assert (len(tokens), visitors["sessions_refused"]) == (10, 5)
    assert visitors["refused"] == 100 - 40  # 10 visitors x 5 allowed = 50 > the source's 40
    assert staff == {"sent": 33, "refused": 0}


def test_staff_and_api_keys_still_share_their_tenants_budget(api: Api, tenant: dict, clock):
    use_limits(tenant_requests_per_minute=3)
    vera = widget_session(api, tenant).json_body["visitor_token"]
    for token in (tenant["admin_token"], tenant["api_key"], tenant["admin_token"]):
        assert me(api, token) == 200
    assert [me(api, token) for token in (tenant["admin_token"], tenant["api_key"])] == [429, 429]
    assert me(api, vera) == 200  # a visitor never spends, nor is refused by, the staff budget


# --- Per visitor, per source ----------------------------------------------------------------------------
def test_one_visitor_past_its_budget_is_429_and_others_are_not(api: Api, tenant: dict, clock, from_address):
    use_limits(visitor_requests_per_minute=3)
    from_address("192.0.2.1")
    vera, walt = (widget_session(api, tenant).json_body["visitor_token"] for _ in range(2))
    assert [me(api, vera) for _ in range(4)] == [200, 200, 200, 429]
    refused = api.call("GET", "/v1/me", token=vera)
    assert refused.json_body["error"]["code"] == "rate_limited" and 1 <= int(refused.headers["Retry-After"]) <= 61
    assert me(api, walt) == 200
    clock.advance(60)
    assert me(api, vera) == 200


def test_addresses_in_one_ipv6_64_share_a_budget(api: Api, tenant: dict, clock, from_address):
    use_limits(visitor_source_requests_per_minute=4, widget_sessions_per_minute=100)
    tokens = [widget_session(api, tenant).json_body["visitor_token"] for _ in range(6)]
    hosts = ["2001:db8:1:2::1", "2001:db8:1:2:ffff:ffff:ffff:fffe", "2001:DB8:1:2:abcd::9", "2001:db8:1:2::77"]
    statuses = []
    for token, host in zip(tokens, hosts + ["2001:db8:1:2::5"], strict=False):  # five visitors, five hosts, one /64
        from_address(host)
        statuses.append(me(api, token))
    assert statuses == [200, 200, 200, 200, 429]
    from_address("2001:db8:1:3::1")  # the next /64 is another source
    assert me(api, tokens[5]) == 200


def test_widget_sessions_from_one_ipv6_64_share_a_budget(api: Api, tenant: dict, clock, from_address):
    use_limits(widget_sessions_per_minute=2)
    for host in ("2001:db8::1", "2001:db8::2:1"):
        from_address(host)
        assert widget_session(api, tenant).status_code == 201
    from_address("2001:db8::ffff:1")
    before = without_rate_limits(all_items())
    refused = widget_session(api, tenant)
    assert refused.status_code == 429 and refused.json_body["error"]["code"] == "rate_limited"
    assert without_rate_limits(all_items()) == before
    from_address("2001:db8:0:1::1")
    assert widget_session(api, tenant).status_code == 201


@pytest.mark.parametrize("address, counted_as", [
    ("203.0.113.9", "203.0.113.9"),
    ("2001:db8:aa:bb:cc:dd:ee:ff", "2001:db8:aa:bb::/64"),
    ("2001:DB8:AA:BB::1", "2001:db8:aa:bb::/64"),
    ("::ffff:203.0.113.9", "203.0.113.9"),  # an IPv4 client through a dual-stack listener
    ("unknown", "unknown"),
])
def test_source_key(address: str, counted_as: str):
    assert source_key(address) == counted_as


# --- The tenant's ceiling on new visitors ------------------------------------------------------------
def test_past_the_tenants_ceiling_new_visitors_get_widget_busy_and_returning_ones_get_in(
        api: Api, tenant: dict, clock, from_address):
    use_limits(tenant_new_visitors_per_minute=2, widget_sessions_per_minute=100)
    first = [widget_session(api, tenant).json_body for _ in range(2)]
    before = without_rate_limits(all_items())
    busy = api.call("POST", f"/v1/widget/{tenant['widget_key']}/sessions", {"name": "Eve"},
                    headers={"Origin": "https://shop.example"})
    assert busy.status_code == 429 and busy.json_body["error"]["code"] == "widget_busy"
    assert "busy" in busy.json_body["error"]["message"] and 1 <= int(busy.headers["Retry-After"]) <= 61
    assert busy.headers["Access-Control-Allow-Origin"] == "*"  # the widget can read why
    assert without_rate_limits(all_items()) == before  # no visitor written
    # A returning visitor is no new visitor; another tenant has its own ceiling; staff are untouched.
    assert widget_session(api, tenant, visitor_token=first[0]["visitor_token"]).status_code == 201
    other = api.signup(name="Other", email="boss@other.com")
    assert widget_session(api, other).status_code == 201
    assert me(api, tenant["admin_token"]) == 200
    clock.advance(60)
    assert widget_session(api, tenant).status_code == 201


# --- The tenant's ceiling on visitor conversations waiting for or with a person ------------------------------
def open_count(tenant: dict) -> int:
    return int(TenantModel.get(tenant["tenant_id"], consistent_read=True).open_visitor_conversations or 0)


def first_message(party: Party, text: str = "hello?") -> dict:
    party.send(action="message.send", client_msg_id="m1", text=text)
    [answer] = [f for f in party.new_frames() if f["type"] in ("ack", "error")]
    return answer


def test_past_the_ceiling_on_open_conversations_a_new_visitor_gets_widget_busy(api: Api, tenant: dict):
    use_limits(tenant_open_visitor_conversations=2)
    sam = agent(api, tenant, "sam@acme.com", max_concurrent=1)
    sam.send(action="presence.set", status="online")
    held, waiting = visitor(api, tenant), visitor(api, tenant)
    held_ack, waiting_ack = first_message(held), first_message(waiting)
    assert held_ack["type"] == waiting_ack["type"] == "ack" and open_count(tenant) == 2
    late = visitor(api, tenant)
    before = without_rate_limits(all_items())
    refused = first_message(late)
    assert (refused["type"], refused["code"], refused["ref"]) == ("error", "widget_busy", "m1")
    assert refused["retry_after"] >= 1 and "busy" in refused["message"]
    assert without_rate_limits(all_items()) == before  # no conversation, no count
    # A place frees when a conversation closes (by the agent, or when the waiting visitor leaves).
    sam.send(action="conversation.close", conversation_id=held_ack["conversation_id"], resolution="resolved")
    assert open_count(tenant) == 1
    assert first_message(late)["type"] == "ack" and open_count(tenant) == 2
    waiting.send(action="conversation.close", conversation_id=waiting_ack["conversation_id"])
    assert open_count(tenant) == 1
    # Staff go on: the agent still chats in what they hold.
    [assigned] = [f for f in sam.new_frames() if f["type"] == "conversation.assigned"][-1:]
    sam.send(action="message.send", conversation_id=assigned["conversation_id"], client_msg_id="s1", text="hi")
    assert [f["type"] for f in sam.new_frames() if f["type"] in ("ack", "error")] == ["ack"]


def test_the_bot_keeps_a_visitor_while_the_tenant_is_full(api: Api, tenant: dict):
    use_limits(tenant_open_visitor_conversations=1)
    assert api.call("POST", "/v1/faq", {"question": "What is your return policy?", "answer": "30 days.",
                                        "keywords": ["return"]}, token=tenant["admin_token"]).status_code == 201
    waiting = visitor(api, tenant)
    waiting_ack = first_message(waiting)
    waiting.send(action="handoff.request", conversation_id=waiting_ack["conversation_id"])
    assert open_count(tenant) == 1  # a chat the bot holds counts only once it is handed to a person
    vera = visitor(api, tenant)
    ack = first_message(vera, "What is your return policy?")
    assert ack["type"] == "ack"  # the bot takes anyone, and answers this one
    vera.send(action="handoff.request", conversation_id=ack["conversation_id"])
    [refused] = [f for f in vera.new_frames() if f["type"] == "error"]
    assert refused["code"] == "widget_busy"
    conversation = ConversationModel.get(tenant["tenant_id"], ack["conversation_id"], consistent_read=True)
    assert conversation.status == "bot" and conversation.counted_open is None and open_count(tenant) == 1
    waiting.send(action="conversation.close", conversation_id=waiting_ack["conversation_id"])
    vera.send(action="handoff.request", conversation_id=ack["conversation_id"])
    assert ConversationModel.get(tenant["tenant_id"], ack["conversation_id"]).status == "queued"
    assert open_count(tenant) == 1


def test_erasing_a_waiting_visitor_gives_their_place_back(api: Api, tenant: dict):
    use_limits(tenant_open_visitor_conversations=1)
    session_body = widget_session(api, tenant).json_body
    assert first_message(Party(session_body["visitor_token"]))["type"] == "ack" and open_count(tenant) == 1
    erased = api.call("DELETE", f"/v1/visitors/{session_body['visitor_id']}", token=tenant["admin_token"])
    assert erased.status_code == 202 and open_count(tenant) == 0
    assert first_message(visitor(api, tenant))["type"] == "ack"
    assert VisitorModel.get(tenant["tenant_id"], session_body["visitor_id"]).erased_at is not None
