"""Messages, presence, routing, capacity and close through the WebSocket handlers on moto."""
from __future__ import annotations

import json
from collections import Counter
from concurrent.futures import ThreadPoolExecutor

import pytest

import app as app_module
from chalicelib.conversations import assignment
from chalicelib.storage.agents import AgentModel
from chalicelib.storage.conversations import ConversationModel, MessageModel
from chalicelib.storage.settings import Settings
from devstack.harness import Api, Party, agent, frames_sent, visitor, ws_event
from tests.helpers import agent_id_of, all_items, audit_events, use_limits, without_rate_limits


def test_a_chat_from_first_message_to_close(api: Api, tenant: dict):
    vera = visitor(api, tenant, name="Vera")
    vera.send(action="message.send", client_msg_id="v1", text="Where is my parcel?")
    frames = vera.new_frames()
    ack = next(f for f in frames if f["type"] == "ack")
    assert ack["seq"] == 1 and ack["client_msg_id"] == "v1"
    conversation_id = ack["conversation_id"]
    assert {"type": "conversation.queued", "conversation_id": conversation_id, "position": 1} in frames

    sam = agent(api, tenant, "sam@acme.com")
    sam.send(action="presence.set", status="online")
    assigned = sam.of_type("conversation.assigned")
    # The agent gets the assignment, then the transcript so far.
    assert assigned[0]["visitor"] == {"visitor_id": assigned[0]["visitor"]["visitor_id"], "name": "Vera"}
    transcript = [f for f in frames_sent(sam.connection_id) if f["type"] == "message.new"]
    assert [(m["seq"], m["text"], m["sender"]["kind"]) for m in transcript] == [(1, "Where is my parcel?", "visitor")]
    assert vera.of_type("conversation.assigned")[0]["agent"]["name"] == "Sam"

    sam.send(action="message.send", conversation_id=conversation_id, client_msg_id="s1", text="On its way!")
    assert sam.of_type("ack")[0]["seq"] == 2
    [reply] = vera.of_type("message.new")
    assert reply["text"] == "On its way!" and reply["sender"] == {
        "kind": "agent", "id": assigned[0]["agent"]["agent_id"], "name": "Sam"}

    sam.send(action="conversation.close", conversation_id=conversation_id, resolution="resolved")
    assert vera.of_type("conversation.closed") == [
        {"type": "conversation.closed", "conversation_id": conversation_id, "resolution": "resolved"}]
    stored = ConversationModel.get(tenant["tenant_id"], conversation_id)
    assert stored.status == "closed" and stored.first_response_at is not None and stored.closed_at
    assert AgentModel.get(tenant["tenant_id"], stored.agent_id).load == 0


def test_message_text_never_reaches_dynamodb(api: Api, tenant: dict):
    vera = visitor(api, tenant)
    secret = "my card is 4242 4242 4242 4242"
    vera.send(action="message.send", client_msg_id="v1", text=secret)
    raw = json.dumps(all_items(), default=repr)
    assert "4242" not in raw


def test_a_retried_client_msg_id_gets_the_same_ack_and_stores_nothing(api: Api, tenant: dict):
    vera = visitor(api, tenant)
    vera.send(action="message.send", client_msg_id="v1", text="hello")
    [first] = vera.of_type("ack")
    before = without_rate_limits(all_items())
    vera.send(action="message.send", client_msg_id="v1", text="hello")
    assert vera.of_type("ack") == [first]
    assert without_rate_limits(all_items()) == before


def test_sequence_numbers_are_gap_free_under_concurrent_senders(api: Api, tenant: dict):
    use_limits(messages_per_second=100, ws_frames_per_second=100)  # a race, not a rate, is what this test is about
    vera = visitor(api, tenant)
    vera.send(action="message.send", client_msg_id="first", text="hi")
    conversation_id = vera.of_type("ack")[0]["conversation_id"]
    with ThreadPoolExecutor(8) as pool:
        list(pool.map(lambda n: vera.send(action="message.send", conversation_id=conversation_id,
                                             client_msg_id=f"m{n}", text=f"message {n}"), range(24)))
    acks = [frame["seq"] for frame in vera.of_type("ack")]
    assert sorted(acks) == list(range(2, 26))
    stored = MessageModel.query(f"{tenant['tenant_id']}#{conversation_id}", consistent_read=True)
    assert [int(message.seq) for message in stored] == list(range(1, 26))
    shown = api.call("GET", f"/v1/conversations/{conversation_id}", token=tenant["admin_token"]).json_body
    assert shown["last_seq"] == 25


def test_sending_into_someone_elses_conversation_is_refused_and_stores_nothing(api: Api, tenant: dict):
    vera = visitor(api, tenant)
    vera.send(action="message.send", client_msg_id="v1", text="hello")
    conversation_id = vera.of_type("ack")[0]["conversation_id"]
    other_tenant = api.signup(name="Other", email="boss@other.com")
    outsiders = [visitor(api, tenant), agent(api, tenant, "kim@acme.com"),
                 visitor(api, other_tenant)]
    before = without_rate_limits(all_items())
    for outsider in outsiders:
        outsider.send(action="message.send", conversation_id=conversation_id, client_msg_id="x", text="pwned")
        outsider.send(action="typing", conversation_id=conversation_id, state="on")
        outsider.send(action="conversation.close", conversation_id=conversation_id, resolution="resolved")
        errors = outsider.of_type("error")
        assert [e["code"] for e in errors] == ["not_found"] * 3
    assert without_rate_limits(all_items()) == before
    assert vera.new_frames() == []


def test_capacity_is_respected_and_closing_frees_it(api: Api, tenant: dict):
    sam = agent(api, tenant, "sam@acme.com", max_concurrent=2)
    sam.send(action="presence.set", status="online")
    visitors = [visitor(api, tenant) for _ in range(3)]
    for n, person in enumerate(visitors):
        person.send(action="message.send", client_msg_id="v1", text=f"hello {n}")
    assigned = sam.of_type("conversation.assigned")
    assert len(assigned) == 2
    assert visitors[2].of_type("conversation.queued")[0]["position"] == 1
    sam.send(action="conversation.close", conversation_id=assigned[0]["conversation_id"], resolution="resolved")
    [third] = sam.of_type("conversation.assigned")
    assert third["conversation_id"] == visitors[2].of_type("conversation.assigned")[0]["conversation_id"]


def test_the_least_loaded_agent_gets_the_next_chat(api: Api, tenant: dict):
    sam, kim = agent(api, tenant, "sam@acme.com"), agent(api, tenant, "kim@acme.com")
    for person in (sam, kim):
        person.send(action="presence.set", status="online")
    for _ in range(4):
        visitor(api, tenant).send(action="message.send", client_msg_id="v1", text="hello")
    loads = sorted(int(a.load) for a in AgentModel.query(tenant["tenant_id"]) if a.email != "admin@acme.com")
    assert loads == [2, 2]


def test_teams_route_only_to_their_agents(api: Api, tenant: dict):
    sales = agent(api, tenant, "sales@acme.com", teams=["sales"])
    sales.send(action="presence.set", status="online")
    visitor(api, tenant, team="billing").send(action="message.send", client_msg_id="v1", text="invoice?")
    assert sales.of_type("conversation.assigned") == []
    billing = agent(api, tenant, "bill@acme.com", teams=["billing"])
    billing.send(action="presence.set", status="online")
    assert len(billing.of_type("conversation.assigned")) == 1


def test_racing_assignments_never_double_assign_or_exceed_capacity(api: Api, tenant: dict):
    agents = [agent(api, tenant, f"a{n}@acme.com", max_concurrent=2) for n in range(3)]
    for person in agents:
        person.send(action="presence.set", status="offline")
    for n in range(10):
        visitor(api, tenant).send(action="message.send", client_msg_id="v1", text=f"hello {n}")
    queued = [c for c in ConversationModel.query(tenant["tenant_id"]) if c.status == "queued"]
    staff = [a for a in AgentModel.query(tenant["tenant_id"]) if a.email != "admin@acme.com"]
    for member in staff:
        assignment.set_presence(member.tenant_id, member.agent_id, "online")
    attempts = [(conversation, member) for conversation in queued for member in staff] * 2
    with ThreadPoolExecutor(16) as pool:
        results = list(pool.map(lambda pair: assignment.assign(
            ConversationModel.get(pair[0].tenant_id, pair[0].conversation_id),
            AgentModel.get(pair[1].tenant_id, pair[1].agent_id), Settings()), attempts))
    made = [r for r in results if r]
    assert len(made) == 6  # 3 agents x capacity 2
    assert len({a.conversation.conversation_id for a in made}) == 6  # never twice
    for member in AgentModel.query(tenant["tenant_id"]):
        assigned = [c for c in ConversationModel.query(tenant["tenant_id"]) if c.agent_id == member.agent_id]
        assert int(member.load) == len(assigned) <= member.max_concurrent


def test_a_burst_of_openings_is_all_assigned_while_agents_have_room(api: Api, tenant: dict):
    # Every opening races for the best agent at once: a lost race must go on to the next agent,
    # not leave the chat queued while others have room (queued chats wait for a presence change).
    agents = [agent(api, tenant, f"b{n}@acme.com", max_concurrent=4) for n in range(5)]
    for person in agents:
        person.send(action="presence.set", status="online")
    visitors = [visitor(api, tenant) for _ in range(20)]
    with ThreadPoolExecutor(16) as pool:
        list(pool.map(lambda v: v.send(action="message.send", client_msg_id="v1", text="hello"), visitors))
    assert all(v.of_type("ack") for v in visitors)
    statuses = Counter(c.status for c in ConversationModel.query(tenant["tenant_id"]))
    assert statuses == {"assigned": 20}
    assert sorted(int(a.load) for a in AgentModel.query(tenant["tenant_id"]) if a.max_concurrent == 4) == [4] * 5


def test_typing_and_read_reach_the_other_party(api: Api, tenant: dict):
    from tests.helpers import counted_requests

    sam = agent(api, tenant, "sam@acme.com")
    sam.send(action="presence.set", status="online")
    vera = visitor(api, tenant)
    vera.send(action="message.send", client_msg_id="v1", text="hello")
    conversation_id = vera.of_type("ack")[0]["conversation_id"]
    sam.new_frames()
    with counted_requests() as typing_requests:
        vera.send(action="typing", conversation_id=conversation_id, state="on")
    [typing] = sam.of_type("typing")
    assert typing["state"] == "on" and typing["from"]["kind"] == "visitor"
    with counted_requests() as read_requests:
        sam.send(action="read", conversation_id=conversation_id, seq=1)
    assert vera.of_type("read")[0]["seq"] == 1
    # Only the other side's connections are looked up (a read receipt also reads the last message's seq).
    assert typing_requests.count("dynamodb.Query") == 1 and read_requests.count("dynamodb.Query") == 2
    assert ConversationModel.get(tenant["tenant_id"], conversation_id).agent_read_seq == 1
    sam.send(action="read", conversation_id=conversation_id, seq=9)
    assert sam.of_type("error")[0]["message"].startswith("seq")


def test_agent_only_actions_are_refused_to_visitors(api: Api, tenant: dict):
    vera = visitor(api, tenant)
    before = without_rate_limits(all_items())
    vera.send(action="presence.set", status="online")
    assert vera.of_type("error")[0]["code"] == "forbidden"
    assert without_rate_limits(all_items()) == before


# --- REST: conversations and transcripts -----------------------------------------------------
def test_transcripts_over_rest_are_decrypted_and_scoped(api: Api, tenant: dict):
    sam = agent(api, tenant, "sam@acme.com")
    kim_token = api.login(tenant["tenant_id"], api.add_agent(tenant["admin_token"], "kim@acme.com")["email"])
    sam.send(action="presence.set", status="online")
    vera = visitor(api, tenant)
    vera.send(action="message.send", client_msg_id="v1", text="hello there")
    conversation_id = vera.of_type("ack")[0]["conversation_id"]
    sam.send(action="message.send", conversation_id=conversation_id, client_msg_id="s1", text="hi!")
    sam_token = api.login(tenant["tenant_id"], "sam@acme.com")

    mine = api.call("GET", "/v1/conversations", token=sam_token).json_body
    assert [c["conversation_id"] for c in mine["items"]] == [conversation_id]
    assert mine["items"][0]["status"] == "assigned" and mine["items"][0]["last_seq"] == 2
    assert api.call("GET", "/v1/conversations", token=kim_token).json_body["items"] == []
    assert api.call("GET", f"/v1/conversations/{conversation_id}", token=kim_token).status_code == 404

    messages = api.call("GET", f"/v1/conversations/{conversation_id}/messages",
                        token=tenant["admin_token"]).json_body
    assert [(m["seq"], m["sender"]["kind"], m["text"]) for m in messages["items"]] == [
        (1, "visitor", "hello there"), (2, "agent", "hi!")]
    [read] = audit_events(tenant["tenant_id"], "transcript.read")
    assert read["target"] == conversation_id and read["details"] == {"first_seq": 1, "count": 2}
    assert "hello there" not in json.dumps(audit_events(tenant["tenant_id"]))  # the trail holds no text

    filtered = api.call("GET", "/v1/conversations?status=closed", token=tenant["admin_token"]).json_body
    assert filtered["items"] == []
    other = api.signup(name="Other", email="boss@other.com")
    other_token = api.login(other["tenant_id"], "boss@other.com")
    for path in (f"/v1/conversations/{conversation_id}", f"/v1/conversations/{conversation_id}/messages"):
        assert api.call("GET", path, token=other_token).status_code == 404


def test_a_tampered_message_is_marked_corrupted_never_garbage(api: Api, tenant: dict, caplog):
    import boto3

    vera = visitor(api, tenant)
    vera.send(action="message.send", client_msg_id="v1", text="hello")
    conversation_id = vera.of_type("ack")[0]["conversation_id"]
    ddb = boto3.client("dynamodb")
    table = "switchboard-test-messages"
    key = {"conversation_key": {"S": f"{tenant['tenant_id']}#{conversation_id}"}, "seq": {"N": "1"}}
    sealed = bytearray(ddb.get_item(TableName=table, Key=key)["Item"]["sealed"]["B"])
    sealed[20] ^= 0x01
    ddb.update_item(TableName=table, Key=key, UpdateExpression="SET sealed = :s",
                    ExpressionAttributeValues={":s": {"B": bytes(sealed)}})
    with caplog.at_level("ERROR", logger="switchboard.transcripts"):
        [message] = api.call("GET", f"/v1/conversations/{conversation_id}/messages",
                             token=tenant["admin_token"]).json_body["items"]
    assert message["corrupted"] is True and message["text"] is None
    assert "message_corrupted" in caplog.text


# --- reroute-stale ----------------------------------------------------------------------------
def run_reroute_stale() -> dict:
    return app_module.reroute_stale({"version": "0", "detail-type": "Scheduled Event", "source": "aws.events",
                                     "time": "2026-11-23T10:00:00Z", "id": "1", "region": "us-east-1",
                                     "account": "123456789012", "resources": [], "detail": {}}, None)


def two_agents_one_chat(api: Api, tenant: dict) -> tuple[Party, Party, Party, str]:
    sam = agent(api, tenant, "sam@acme.com")
    sam.send(action="presence.set", status="online")
    vera = visitor(api, tenant)
    vera.send(action="message.send", client_msg_id="v1", text="hello?")
    conversation_id = vera.of_type("ack")[0]["conversation_id"]
    kim = agent(api, tenant, "kim@acme.com")
    kim.send(action="presence.set", status="online")
    for party in (sam, kim, vera):
        party.new_frames()
    return sam, kim, vera, conversation_id


def test_a_silent_agents_chat_goes_to_another_agent(api: Api, tenant: dict, clock):
    sam, kim, vera, conversation_id = two_agents_one_chat(api, tenant)
    assert run_reroute_stale()["unanswered_requeued"] == 0  # not due yet
    clock.advance(121)
    assert run_reroute_stale()["unanswered_requeued"] == 1
    [moved] = sam.of_type("conversation.transferred")
    assert moved["from_agent_id"] != moved["to_agent_id"] and moved["to_agent_id"]
    assert kim.of_type("conversation.assigned")[0]["conversation_id"] == conversation_id
    assert vera.of_type("conversation.assigned")[0]["agent"]["name"] == "Kim"
    loads = {a.email: int(a.load) for a in AgentModel.query(tenant["tenant_id"])}
    assert loads["sam@acme.com"] == 0 and loads["kim@acme.com"] == 1
    # Idempotent: running again (or a duplicated event) changes nothing.
    before = without_rate_limits(all_items())
    assert run_reroute_stale() == {"unanswered_requeued": 0, "agents_gone": 0, "requeued_from_gone_agents": 0}
    assert without_rate_limits(all_items()) == before


def test_a_rerouted_chat_never_returns_to_the_agent_it_left(api: Api, tenant: dict, clock):
    sam = agent(api, tenant, "sam@acme.com")
    sam.send(action="presence.set", status="online")
    vera = visitor(api, tenant)
    vera.send(action="message.send", client_msg_id="v1", text="hello?")
    conversation_id = vera.of_type("ack")[0]["conversation_id"]
    clock.advance(121)
    run_reroute_stale()
    stored = ConversationModel.get(tenant["tenant_id"], conversation_id)
    assert stored.status == "queued" and stored.priority == assignment.FRONT_OF_QUEUE
    assert vera.of_type("conversation.queued")[-1]["position"] == 1


def test_an_answered_chat_stays(api: Api, tenant: dict, clock):
    sam, kim, vera, conversation_id = two_agents_one_chat(api, tenant)
    sam.send(action="message.send", conversation_id=conversation_id, client_msg_id="s1", text="Hi!")
    clock.advance(3600)
    assert run_reroute_stale()["unanswered_requeued"] == 0
    assert ConversationModel.get(tenant["tenant_id"], conversation_id).status == "assigned"


def test_an_agent_gone_past_the_grace_period_hands_chats_back(api: Api, tenant: dict, clock):
    sam, kim, vera, conversation_id = two_agents_one_chat(api, tenant)
    sam.send(action="message.send", conversation_id=conversation_id, client_msg_id="s1", text="Hi!")
    app_module.websocket_disconnect(ws_event("$disconnect", sam.connection_id), None)
    clock.advance(10)
    assert run_reroute_stale()["agents_gone"] == 0  # a reload is not leaving
    clock.advance(25)
    summary = run_reroute_stale()
    assert summary["agents_gone"] == 1 and summary["requeued_from_gone_agents"] == 1
    sam_record = next(a for a in AgentModel.query(tenant["tenant_id"]) if a.email == "sam@acme.com")
    assert sam_record.status == "offline" and int(sam_record.load) == 0
    assert kim.of_type("conversation.assigned")[0]["conversation_id"] == conversation_id


def test_reconnecting_within_the_grace_period_keeps_the_chats(api: Api, tenant: dict, clock):
    sam, kim, vera, conversation_id = two_agents_one_chat(api, tenant)
    app_module.websocket_disconnect(ws_event("$disconnect", sam.connection_id), None)
    clock.advance(10)
    Party(api.login(tenant["tenant_id"], "sam@acme.com"))  # the page reloaded
    sam_conversation = ConversationModel.get(tenant["tenant_id"], conversation_id)
    clock.advance(60)
    assert run_reroute_stale()["agents_gone"] == 0
    assert ConversationModel.get(tenant["tenant_id"], conversation_id).agent_id == sam_conversation.agent_id


# --- Bot first and business hours ------------------------------------------------------------
def add_faq(api: Api, tenant: dict) -> None:
    response = api.call("POST", "/v1/faq", {"question": "What is your returns policy?",
                                            "answer": "You can return any item within 30 days.",
                                            "keywords": ["refund", "return"]}, token=tenant["admin_token"])
    assert response.status_code == 201, response.body


def test_the_bot_answers_from_the_faq_then_hands_over_on_request(api: Api, tenant: dict):
    add_faq(api, tenant)
    vera = visitor(api, tenant)
    vera.send(action="message.send", client_msg_id="v1", text="what's your returns policy?")
    frames = vera.new_frames()
    conversation_id = frames[0]["conversation_id"]
    [answer] = [f for f in frames if f["type"] == "message.new"]
    assert answer["sender"]["kind"] == "bot" and answer["seq"] == 2 and "30 days" in answer["text"]
    assert ConversationModel.get(tenant["tenant_id"], conversation_id).status == "bot"

    sam = agent(api, tenant, "sam@acme.com")
    sam.send(action="presence.set", status="online")
    assert sam.of_type("conversation.assigned") == []  # the bot still holds it
    vera.send(action="message.send", client_msg_id="v2", text="Can I talk to a human please")
    assert vera.of_type("conversation.assigned")[0]["agent"]["name"] == "Sam"
    transcript = [f for f in frames_sent(sam.connection_id) if f["type"] == "message.new"]
    assert [m["sender"]["kind"] for m in transcript] == ["visitor", "bot", "visitor"]


@pytest.mark.parametrize("how", ["unanswerable", "handoff.request", "人工"])
def test_the_bot_hands_over_when_it_cannot_help_or_is_asked(api: Api, tenant: dict, how: str):
    add_faq(api, tenant)
    vera = visitor(api, tenant)
    first = "do you sell cars?" if how == "unanswerable" else "what's your returns policy?"
    vera.send(action="message.send", client_msg_id="v1", text=first)
    conversation_id = frames_sent(vera.connection_id)[0]["conversation_id"]
    if how == "handoff.request":
        vera.send(action="handoff.request", conversation_id=conversation_id)
    elif how == "人工":
        vera.send(action="message.send", conversation_id=conversation_id, client_msg_id="v2", text="转人工")
    assert ConversationModel.get(tenant["tenant_id"], conversation_id).status == "queued"
    queued = [f for f in frames_sent(vera.connection_id) if f["type"] == "conversation.queued"]
    assert queued[-1]["position"] == 1


def test_a_chat_the_bot_settles_closes_without_a_human(api: Api, tenant: dict):
    add_faq(api, tenant)
    vera = visitor(api, tenant)
    vera.send(action="message.send", client_msg_id="v1", text="refund policy?")
    conversation_id = vera.of_type("ack")[0]["conversation_id"]
    vera.send(action="conversation.close", conversation_id=conversation_id)
    stored = ConversationModel.get(tenant["tenant_id"], conversation_id)
    assert stored.status == "closed" and stored.agent_id is None and stored.assigned_at is None


def test_out_of_hours_the_visitor_gets_the_offline_message_and_waits(api: Api, tenant: dict):
    closed_all_week = {day: [] for day in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")}
    api.call("PUT", "/v1/settings", {"business_hours": closed_all_week, "offline_message": "Back at 9!"},
             token=tenant["admin_token"])
    vera = visitor(api, tenant)
    vera.send(action="message.send", client_msg_id="v1", text="anyone there?")
    frames = vera.new_frames()
    assert [f["type"] for f in frames] == ["ack", "conversation.queued", "message.new"]
    assert frames[2]["sender"]["kind"] == "system" and frames[2]["text"] == "Back at 9!"
    sam = agent(api, tenant, "sam@acme.com")
    sam.send(action="presence.set", status="online")  # the first agent in takes it, nothing lost
    transcript = [f for f in frames_sent(sam.connection_id) if f["type"] == "message.new"]
    assert [(m["seq"], m["text"]) for m in transcript] == [(1, "anyone there?"), (2, "Back at 9!")]


# --- Transfer and escalation ------------------------------------------------------------------
def held_by(api: Api, tenant: dict, email: str, **extra) -> tuple[Party, Party, str]:
    """An online agent holding one visitor's chat."""
    holder = agent(api, tenant, email, **extra)
    holder.send(action="presence.set", status="online")
    vera = visitor(api, tenant)
    vera.send(action="message.send", client_msg_id="v1", text="help")
    conversation_id = frames_sent(vera.connection_id)[0]["conversation_id"]
    holder.new_frames()
    vera.new_frames()
    return holder, vera, conversation_id


def test_transfer_to_an_agent_moves_chat_and_capacity_together(api: Api, tenant: dict):
    sam, vera, conversation_id = held_by(api, tenant, "sam@acme.com")
    kim = agent(api, tenant, "kim@acme.com", teams=["vip"])
    kim.send(action="presence.set", status="online")
    sam.send(action="conversation.transfer", conversation_id=conversation_id,
             to_agent_id=agent_id_of(tenant, "kim@acme.com"))
    moved = sam.of_type("conversation.transferred")[0]
    assert moved["to_agent_id"] == agent_id_of(tenant, "kim@acme.com")
    assert kim.of_type("conversation.assigned")[0]["conversation_id"] == conversation_id
    assert [f["type"] for f in vera.new_frames()] == ["conversation.transferred", "conversation.assigned"]
    loads = {a.email: int(a.load) for a in AgentModel.query(tenant["tenant_id"])}
    assert (loads["sam@acme.com"], loads["kim@acme.com"]) == (0, 1)
    # Kim holds it now: Sam can no longer write into it.
    sam.send(action="message.send", conversation_id=conversation_id, client_msg_id="s1", text="still me")
    assert sam.of_type("error")[0]["code"] == "not_found"


def test_transfer_to_an_unavailable_agent_changes_nothing(api: Api, tenant: dict):
    sam, vera, conversation_id = held_by(api, tenant, "sam@acme.com")
    api.add_agent(tenant["admin_token"], "off@acme.com")  # never online
    before = without_rate_limits(all_items())
    sam.send(action="conversation.transfer", conversation_id=conversation_id,
             to_agent_id=agent_id_of(tenant, "off@acme.com"))
    sam.send(action="conversation.transfer", conversation_id=conversation_id, to_agent_id="a_nobody")
    assert [e["code"] for e in sam.of_type("error")] == ["agent_unavailable", "not_found"]
    assert without_rate_limits(all_items()) == before


def test_transfer_to_a_team_queues_it_for_that_team_only(api: Api, tenant: dict):
    sam, vera, conversation_id = held_by(api, tenant, "sam@acme.com")
    sam.send(action="conversation.transfer", conversation_id=conversation_id, to_team="billing")
    assert sam.of_type("conversation.transferred")[0]["to_agent_id"] is None
    assert vera.of_type("conversation.queued")[0]["position"] == 1
    assert sam.of_type("conversation.assigned") == []  # free again, but not for this chat
    bill = agent(api, tenant, "bill@acme.com", teams=["billing"])
    bill.send(action="presence.set", status="online")
    assert bill.of_type("conversation.assigned")[0]["conversation_id"] == conversation_id


def test_supervisors_transfer_any_chat_agents_only_their_own(api: Api, tenant: dict):
    sam, vera, conversation_id = held_by(api, tenant, "sam@acme.com")
    kim = agent(api, tenant, "kim@acme.com")
    kim.send(action="presence.set", status="online")
    kim.new_frames()
    kim.send(action="conversation.transfer", conversation_id=conversation_id, to_team="billing")
    assert kim.of_type("error")[0]["code"] == "not_found"
    boss = agent(api, tenant, "boss@acme.com", role="supervisor")
    boss.send(action="conversation.transfer", conversation_id=conversation_id,
              to_agent_id=agent_id_of(tenant, "kim@acme.com"))
    assert kim.of_type("conversation.assigned")[0]["conversation_id"] == conversation_id


def test_escalation_goes_to_the_next_tier(api: Api, tenant: dict):
    sam, vera, conversation_id = held_by(api, tenant, "sam@acme.com", tier=1)
    sam.send(action="conversation.escalate", conversation_id=conversation_id)
    assert vera.of_type("conversation.queued")[0]["position"] == 1
    peer = agent(api, tenant, "peer@acme.com", tier=1)
    peer.send(action="presence.set", status="online")
    assert peer.of_type("conversation.assigned") == []  # same tier: not theirs
    expert = agent(api, tenant, "expert@acme.com", tier=2)
    expert.send(action="presence.set", status="online")
    assert expert.of_type("conversation.assigned")[0]["conversation_id"] == conversation_id


def test_changing_an_agents_teams_changes_their_routing(api: Api, tenant: dict):
    sam = agent(api, tenant, "sam@acme.com", teams=["sales"])
    sam.send(action="presence.set", status="online")
    api.call("PATCH", f"/v1/agents/{agent_id_of(tenant, 'sam@acme.com')}", {"teams": ["billing"]},
             token=tenant["admin_token"])
    visitor(api, tenant, team="sales").send(action="message.send", client_msg_id="v1", text="buy")
    assert sam.of_type("conversation.assigned") == []
    visitor(api, tenant, team="billing").send(action="message.send", client_msg_id="v1", text="invoice")
    assert len(sam.of_type("conversation.assigned")) == 1


def test_a_deactivated_agents_chats_are_handed_on(api: Api, tenant: dict, clock):
    sam, vera, conversation_id = held_by(api, tenant, "sam@acme.com")
    kim = agent(api, tenant, "kim@acme.com")
    kim.send(action="presence.set", status="online")
    api.call("DELETE", f"/v1/agents/{agent_id_of(tenant, 'sam@acme.com')}", token=tenant["admin_token"])
    # At once, by reroute-stale's own hand-back (tests/functional/test_sessions.py has the rest).
    assert kim.of_type("conversation.assigned")[0]["conversation_id"] == conversation_id
    assert run_reroute_stale()["requeued_from_gone_agents"] == 0


def test_waiting_visitors_hear_their_position_as_the_queue_moves(api: Api, tenant: dict):
    waiting = [visitor(api, tenant) for _ in range(4)]
    for person in waiting:
        person.send(action="message.send", client_msg_id="v1", text="hello")
    assert [p.of_type("conversation.queued")[-1]["position"] for p in waiting] == [1, 2, 3, 4]
    last_id = frames_sent(waiting[3].connection_id)[0]["conversation_id"]
    waiting[3].send(action="conversation.close", conversation_id=last_id)  # the last gives up: nobody moves
    assert [p.of_type("conversation.queued") for p in waiting[:3]] == [[], [], []]
    waiting = waiting[:3]
    first_id = frames_sent(waiting[0].connection_id)[0]["conversation_id"]
    waiting[0].send(action="conversation.close", conversation_id=first_id)  # gives up waiting
    assert [p.of_type("conversation.queued")[-1]["position"] for p in waiting[1:]] == [1, 2]
    sam = agent(api, tenant, "sam@acme.com", max_concurrent=1)
    sam.send(action="presence.set", status="online")
    assert waiting[1].of_type("conversation.assigned")
    assert waiting[2].of_type("conversation.queued")[-1]["position"] == 1


def test_sync_replays_only_your_own_conversation(api: Api, tenant: dict):
    vera = visitor(api, tenant)
    vera.send(action="message.send", client_msg_id="v1", text="first")
    vera.send(action="message.send", client_msg_id="v2", text="second",
              conversation_id=frames_sent(vera.connection_id)[0]["conversation_id"])
    conversation_id = frames_sent(vera.connection_id)[0]["conversation_id"]
    vera.new_frames()
    vera.send(action="messages.sync", conversation_id=conversation_id, after_seq=1)
    frames = vera.new_frames()
    assert [(f["type"], f.get("seq"), f.get("text")) for f in frames] == [
        ("message.new", 2, "second"), ("sync.done", None, None)]
    assert frames[-1]["last_seq"] == 2 and frames[-1]["complete"] is True
    stranger = visitor(api, tenant)
    stranger.send(action="messages.sync", conversation_id=conversation_id, after_seq=0)
    assert stranger.of_type("error")[0]["code"] == "not_found"


# --- The queue view ---------------------------------------------------------------------------
def queue_of(api: Api, token: str) -> list[dict]:
    response = api.call("GET", "/v1/queue", token=token)
    assert response.status_code == 200, response.body
    return response.json_body["items"]


def waiting(api: Api, tenant: dict, team: str | None = None) -> str:
    """A visitor's chat waiting in a queue (nobody is online to take it): its id."""
    party = visitor(api, tenant, **({"team": team} if team else {}))
    party.send(action="message.send", client_msg_id="v1", text="anyone?")
    return party.of_type("ack")[0]["conversation_id"]


def test_an_agent_sees_the_queues_routing_serves_them_from(api: Api, tenant: dict):
    api.add_agent(tenant["admin_token"], "sam@acme.com", teams=["sales"], tier=1)
    api.add_agent(tenant["admin_token"], "bill@acme.com", teams=["billing"], tier=2)
    sales, billing, anyone = waiting(api, tenant, "sales"), waiting(api, tenant, "billing"), waiting(api, tenant)
    sam = queue_of(api, api.login(tenant["tenant_id"], "sam@acme.com"))
    assert [(i["conversation_id"], i["team"], i["position"]) for i in sam] == [(sales, "sales", 1), (anyone, None, 1)]
    conversation = api.call("GET", f"/v1/conversations/{sales}", token=tenant["admin_token"]).json_body
    assert sam[0] == {"conversation_id": sales, "visitor_id": conversation["visitor_id"], "team": "sales",
                      "priority": 0, "queued_at": conversation["queued_at"], "position": 1}
    bill = queue_of(api, api.login(tenant["tenant_id"], "bill@acme.com"))
    assert [i["conversation_id"] for i in bill] == [billing, anyone]


def test_supervisors_see_every_queue_in_routing_order(api: Api, tenant: dict, clock):
    sam, vera, escalated = held_by(api, tenant, "sam@acme.com", teams=["sales"], tier=1, max_concurrent=1)
    first = waiting(api, tenant)
    clock.advance(5)
    second, sales = waiting(api, tenant), waiting(api, tenant, "sales")
    clock.advance(5)
    nobodys = waiting(api, tenant, "no-such-team")  # a team no agent serves: not a queue of the tenant
    sam.send(action="presence.set", status="away")  # so the capacity it frees takes nothing
    sam.send(action="conversation.escalate", conversation_id=escalated)  # to tier:2, front of it
    api.add_agent(tenant["admin_token"], "boss@acme.com", role="supervisor")
    for token in (tenant["admin_token"], api.login(tenant["tenant_id"], "boss@acme.com")):
        items = queue_of(api, token)
        assert [(i["conversation_id"], i["team"], i["priority"], i["position"]) for i in items] == [
            (escalated, "tier:2", 9, 1), (first, None, 0, 1), (second, None, 0, 2), (sales, "sales", 0, 1)]
        assert nobodys not in {i["conversation_id"] for i in items}
    sam_items = queue_of(api, api.login(tenant["tenant_id"], "sam@acme.com"))
    assert escalated not in {i["conversation_id"] for i in sam_items}  # tier 1 does not serve tier:2


def test_the_queue_view_is_bounded_per_queue_and_reads_with_queries_only(api: Api, tenant: dict, monkeypatch):
    from pynamodb.connection.base import Connection

    from chalicelib.conversations import queries

    api.add_agent(tenant["admin_token"], "sam@acme.com", teams=["sales"], tier=1)
    ids = [waiting(api, tenant) for _ in range(3)]
    calls: list[tuple[str, str | None]] = []
    dispatch = Connection.dispatch

    def recording(self, operation_name, operation_kwargs):
        if not operation_kwargs.get("TableName", "").endswith("-rate-limits"):  # the tenant's request count
            calls.append((operation_name, operation_kwargs.get("IndexName")))
        return dispatch(self, operation_name, operation_kwargs)

    monkeypatch.setattr(Connection, "dispatch", recording)
    monkeypatch.setattr(queries, "QUEUE_VIEW_DEPTH", 2)
    items = queue_of(api, tenant["admin_token"])
    assert [(i["conversation_id"], i["position"]) for i in items] == [(ids[0], 1), (ids[1], 2)]
    # The tenant's queues: *, sales, tier:1 and tier:2 (the admin's and sam's tiers, and the next).
    assert {name for name, _ in calls} == {"GetItem", "Query"}
    assert [index for name, index in calls if name == "Query"].count("queue-index") == 4


def test_another_tenants_queue_is_never_visible(api: Api, tenant: dict):
    ours = waiting(api, tenant, "sales")
    api.add_agent(tenant["admin_token"], "sam@acme.com", teams=["sales"])
    other = api.signup(name="Other", email="boss@other.com")
    other["admin_token"] = api.login(other["tenant_id"], "boss@other.com")
    api.add_agent(other["admin_token"], "sam@other.com", teams=["sales"])
    theirs = waiting(api, other, "sales")
    assert [i["conversation_id"] for i in queue_of(api, tenant["admin_token"])] == [ours]
    assert [i["conversation_id"] for i in queue_of(api, other["admin_token"])] == [theirs]
    assert [i["conversation_id"] for i in queue_of(api, api.login(other["tenant_id"], "sam@other.com"))] == [theirs]


def test_visitors_may_not_read_the_queue(api: Api, tenant: dict):
    session = api.call("POST", f"/v1/widget/{tenant['widget_key']}/sessions", {}).json_body
    response = api.call("GET", "/v1/queue", token=session["visitor_token"])
    assert response.status_code == 403 and response.json_body["error"]["code"] == "forbidden"
