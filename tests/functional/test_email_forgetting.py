"""Shredding a conversation forgets its mail threading: erasure and retention delete its `email-threads`
records (Message-IDs can name the visitor's address, and would thread a later email into it)."""
from __future__ import annotations

import io
import json
import zipfile
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from chalicelib.email_channel import inbound, threads
from chalicelib.email_channel.addresses import inbound_address, reply_address
from chalicelib.storage.conversations import ConversationModel
from chalicelib.storage.email_threads import EmailThreadModel, forget_conversation
from devstack.harness import Api, Party, agent, run_sweep
from tests.email_mail import email
from tests.functional.test_access_exports import compliance_token, exported
from tests.functional.test_email_channel import answer, receive, sent, texts
from tests.functional.test_erasure_receipts import prove


@pytest.fixture
def sam(api: Api, tenant: dict) -> Party:
    sam = agent(api, tenant, "sam@acme.com")
    sam.send(action="presence.set", status="online")
    return sam


def records(tenant_id: str) -> dict[str, str]:
    """Every threading record of the tenant: its key and the conversation it names."""
    return {item.thread_key: item.conversation_id for item in EmailThreadModel.query(tenant_id, consistent_read=True)}


def threaded(tenant: dict, sam: Party, sender: str) -> tuple[ConversationModel, Any]:
    """A conversation by email with every kind of record: the visitor's email, our answer, her reply to it."""
    address = inbound_address(tenant["tenant_id"])
    first = inbound.receive(email(address, "My parcel?", sender=sender, message_id=f"<first@{sender.split('@')[1]}>"))
    conversation = ConversationModel.get(tenant["tenant_id"], first.conversation_id)
    answer(sam, conversation.conversation_id, "It ships today.", f"s-{sender}")
    ours = sent()[-1]
    receive(email(address, "Thanks!", sender=sender, In_Reply_To=ours["Message-ID"],
                  message_id=f"<thanks@{sender.split('@')[1]}>"))
    assert texts(conversation) == ["My parcel?", "It ships today.", "Thanks!"]
    assert set(records(tenant["tenant_id"]).values()) >= {conversation.conversation_id}
    return conversation, ours


def test_erasure_deletes_the_threading_records_and_a_later_email_on_the_thread_is_dropped(
        api: Api, tenant: dict, sam: Party):
    t = tenant["tenant_id"]
    vera, ours = threaded(tenant, sam, "vera@example.org")
    other, _ = threaded(tenant, sam, "walt@example.net")
    assert sorted(records(t).values()) == sorted([vera.conversation_id] * 4 + [other.conversation_id] * 4)

    assert api.call("DELETE", f"/v1/visitors/{vera.visitor_id}", token=tenant["admin_token"]).status_code == 202
    # Vera's c# item and her three Message-IDs are gone; Walt's thread is untouched.
    assert set(records(t).values()) == {other.conversation_id} and len(records(t)) == 4
    assert threads.conversation_of(t, ["<first@example.org>", ours["Message-ID"]]) is None

    # Her client answering the old thread (by Message-ID, or by the signed reply address) reaches nothing.
    address = inbound_address(t)
    for raw in (email(address, "Still there?", In_Reply_To=ours["Message-ID"], References="<first@example.org>"),
                email(reply_address(t, vera.conversation_id), "Hello?")):
        outcome = inbound.receive(raw)
        assert (outcome.stored, outcome.reason) == (False, "visitor_erased")
    assert len(records(t)) == 4
    assert [c.conversation_id for c in ConversationModel.visitor_index.query(f"{t}#{vera.visitor_id}")] == [
        vera.conversation_id]


def test_a_retried_erasure_deletes_nothing_twice_and_fails_on_nothing(api: Api, tenant: dict, sam: Party):
    t = tenant["tenant_id"]
    vera, _ = threaded(tenant, sam, "vera@example.org")
    for _ in range(2):
        assert api.call("DELETE", f"/v1/visitors/{vera.visitor_id}", token=tenant["admin_token"]).status_code == 202
        assert records(t) == {}
    assert forget_conversation(t, vera.conversation_id) == 0  # the step alone, once more


def test_retention_deletes_the_threading_records_and_a_later_reply_opens_a_new_conversation(
        api: Api, tenant: dict, sam: Party, clock):
    t = tenant["tenant_id"]
    assert api.call("PUT", "/v1/settings", {"retention_days": 1}, token=tenant["admin_token"]).status_code == 200
    old, ours = threaded(tenant, sam, "vera@example.org")
    sam.send(action="conversation.close", conversation_id=old.conversation_id, resolution="resolved")
    clock.advance(2 * 86400)
    assert run_sweep("retention")["shredded"] == 1
    assert records(t) == {}
    assert run_sweep("retention")["shredded"] == 0 and records(t) == {}  # a repeated run: nothing, no error

    outcome = inbound.receive(email(inbound_address(t), "Me again", In_Reply_To=ours["Message-ID"]))
    assert outcome.stored and outcome.conversation_id != old.conversation_id
    new = ConversationModel.get(t, outcome.conversation_id)
    assert new.visitor_id == old.visitor_id and texts(new) == ["Me again"]
    assert set(records(t).values()) == {new.conversation_id}  # the new thread's own records only


def test_the_proof_of_forgetting_finds_no_threading_record_left_and_names_one_put_back(
        api: Api, tenant: dict, sam: Party, tmp_path: Path, capsys):
    t = tenant["tenant_id"]
    vera, _ = threaded(tenant, sam, "vera@example.org")
    assert api.call("DELETE", f"/v1/visitors/{vera.visitor_id}", token=tenant["admin_token"]).status_code == 202
    code, out = prove(api, tenant, tmp_path, capsys)
    assert code == 0 and "  email threads  none left for those conversations\n" in out, out
    # The thread record restored (from a backup, say): the proof no longer holds, and says why.
    EmailThreadModel(t, f"c#{vera.conversation_id}", conversation_id=vera.conversation_id,
                     conversation_key=f"{t}#{vera.conversation_id}", created_at=datetime.now(UTC)).save()
    code, out = prove(api, tenant, tmp_path, capsys)
    assert code == 1 and (f"conversation {vera.conversation_id} still has email threading record "
                          f"c#{vera.conversation_id}") in out, out


def test_the_access_bundle_shows_the_email_thread_until_erasure_deletes_it(api: Api, tenant: dict, sam: Party):
    vera, ours = threaded(tenant, sam, "vera@example.org")
    token, name = compliance_token(api, tenant), f"conversations/{vera.conversation_id}.json"
    _, bundle = exported(api, token, vera.visitor_id)
    conversation = json.loads(zipfile.ZipFile(io.BytesIO(bundle)).read(name))
    assert conversation["email_thread"] == {
        "subject": "My parcel", "message_ids": ["<first@example.org>", ours["Message-ID"], "<thanks@example.org>"]}
    assert api.call("DELETE", f"/v1/visitors/{vera.visitor_id}", token=tenant["admin_token"]).status_code == 202
    _, bundle = exported(api, token, vera.visitor_id)
    assert "email_thread" not in json.loads(zipfile.ZipFile(io.BytesIO(bundle)).read(name))
