"""The messages as their own seq authority (chalicelib/conversations/message_store.py): racing retries
of one client_msg_id store it once, a close racing a send either goes after the message or refuses it,
the close's marker is never shown, and a steady message costs at most three write units."""
from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import pytest

from bench.metering import Meter
from chalicelib.conversations import closing
from chalicelib.conversations.message_store import store
from chalicelib.conversations.parties import Author
from chalicelib.errors import Conflict
from chalicelib.storage.conversations import ConversationModel, MessageModel
from devstack.harness import Api, Party, agent, visitor
from tests.helpers import all_items, use_limits, without_rate_limits


def chat(api: Api, tenant: dict) -> tuple[Party, Party, str]:
    """Vera's conversation, assigned to Sam, who has answered: vera, sam, the conversation id."""
    sam = agent(api, tenant, "sam@acme.com")
    sam.send(action="presence.set", status="online")
    vera = visitor(api, tenant, name="Vera")
    vera.send(action="message.send", client_msg_id="v0", text="hello")
    conversation_id = vera.of_type("ack")[0]["conversation_id"]
    sam.send(action="message.send", conversation_id=conversation_id, client_msg_id="s0", text="hi, Vera")
    return vera, sam, conversation_id


def stored_seqs(tenant: dict, conversation_id: str) -> list[tuple[int, str]]:
    return [(int(m.seq), m.sender_kind)
            for m in MessageModel.query(f"{tenant['tenant_id']}#{conversation_id}", consistent_read=True)]


def test_racing_retries_of_one_client_msg_id_store_it_once_among_other_messages(api: Api, tenant: dict):
    use_limits(messages_per_second=100, ws_frames_per_second=100)  # a race, not a rate
    vera, _, conversation_id = chat(api, tenant)
    tabs = [Party(api.login(tenant["tenant_id"], "sam@acme.com")) for _ in range(3)]  # sam's, sending again
    sends = [(tab, "again") for tab in tabs for _ in range(3)] + [(vera, f"other{n}") for n in range(6)]
    with ThreadPoolExecutor(8) as pool:
        list(pool.map(lambda send: send[0].send(action="message.send", conversation_id=conversation_id,
                                                client_msg_id=send[1], text=send[1]), sends))
    retried = {ack["seq"] for tab in tabs for ack in tab.of_type("ack")}
    assert len(retried) == 1  # every attempt is acked as the one message
    stored = MessageModel.query(f"{tenant['tenant_id']}#{conversation_id}", consistent_read=True)
    ids = [(int(m.seq), m.client_msg_id) for m in stored]
    assert [seq for seq, _ in ids] == list(range(1, 10))  # 2 before, 1 retried, 6 others: gap-free
    assert [client_msg_id for _, client_msg_id in ids].count("again") == 1


def test_a_message_that_takes_the_seq_a_close_meant_to_mark_is_kept_and_the_close_goes_after_it(
        api: Api, tenant: dict, monkeypatch):
    vera, sam, conversation_id = chat(api, tenant)
    read_by_close, landed = closing.last_message_seq, []

    def read_then_a_message_lands(conversation: ConversationModel) -> int:
        seq = read_by_close(conversation)
        if not landed:  # once: between the close's read and its write
            landed.append(vera.send(action="message.send", conversation_id=conversation_id, client_msg_id="v1",
                                    text="thanks!"))
        return seq

    monkeypatch.setattr(closing, "last_message_seq", read_then_a_message_lands)
    sam.send(action="conversation.close", conversation_id=conversation_id, resolution="resolved")
    frames = vera.new_frames()
    assert [f["seq"] for f in frames if f["type"] == "ack"] == [3]
    assert [f["type"] for f in frames if f["type"] == "conversation.closed"] == ["conversation.closed"]
    # Stored: the three messages, then the close's marker, which no reader shows.
    assert stored_seqs(tenant, conversation_id) == [(1, "visitor"), (2, "agent"), (3, "visitor"), (4, "closed")]
    shown = api.call("GET", f"/v1/conversations/{conversation_id}", token=tenant["admin_token"]).json_body
    assert (shown["status"], shown["last_seq"]) == ("closed", 3)
    listed = api.call("GET", f"/v1/conversations/{conversation_id}/messages", token=tenant["admin_token"]).json_body
    assert [m["seq"] for m in listed["items"]] == [1, 2, 3]
    transcript = api.call("GET", f"/v1/conversations/{conversation_id}/transcript",
                          token=tenant["admin_token"]).json_body
    assert [m["seq"] for m in transcript["messages"]] == [1, 2, 3]
    sam.new_frames()
    sam.send(action="messages.sync", conversation_id=conversation_id, after_seq=2)
    [message, done] = sam.new_frames()
    assert (message["seq"], done["last_seq"], done["complete"]) == (3, 3, True)


def test_a_send_that_read_the_conversation_open_is_refused_once_the_close_took_the_next_seq(
        api: Api, tenant: dict):
    vera, sam, conversation_id = chat(api, tenant)
    read_before_the_close = ConversationModel.get(tenant["tenant_id"], conversation_id, consistent_read=True)
    sam.send(action="conversation.close", conversation_id=conversation_id, resolution="resolved")
    before = without_rate_limits(all_items())
    with pytest.raises(Conflict) as refused:
        store(read_before_the_close, Author("visitor", read_before_the_close.visitor_id), "late", "one more")
    assert refused.value.code == "conversation_closed"
    assert without_rate_limits(all_items()) == before


def test_a_steady_message_costs_at_most_three_write_units(api: Api, tenant: dict):
    vera, sam, conversation_id = chat(api, tenant)
    meter = Meter()
    with meter.installed():
        for n, speaker in enumerate((vera, sam, vera, sam)):
            speaker.send(action="message.send", conversation_id=conversation_id, client_msg_id=f"m{n}", text="ok")
    # The frame counted on the connection, the client_msg_id's claim, the message: one unit each.
    assert meter.tally.write_units / 4 <= 3
    assert meter.tally.calls["dynamodb.TransactWriteItems"] == 0
