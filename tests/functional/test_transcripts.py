"""Encrypted transcripts end to end: the key hierarchy, no plaintext anywhere, rotation, erasure,
retention, tampering and downloads, through the real handlers on moto."""
from __future__ import annotations

import json
import logging
from concurrent.futures import ThreadPoolExecutor

import boto3
import pytest
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from chalicelib.conversations.message_store import visible
from chalicelib.runtime import runtime
from chalicelib.storage.agents import AgentModel
from chalicelib.storage.connections import ConnectionModel
from chalicelib.storage.conversations import ConversationModel, MessageModel
from chalicelib.storage.visitors import VisitorModel
from devstack.harness import Api, Party, agent, run_job, visitor
from tests.helpers import all_items, audit_events, use_limits

MESSAGES = "switchboard-test-messages"
CONVERSATIONS = "switchboard-test-conversations"


def chat(api: Api, tenant: dict, visitor_text: str = "hello there", agent_text: str = "hi, how can I help?",
         agent_email: str = "sam@acme.com", **profile) -> tuple[Party, Party, str]:
    """A new agent comes online, a visitor writes, the agent answers: (visitor, agent, conversation_id)."""
    sam = agent(api, tenant, agent_email)
    sam.send(action="presence.set", status="online")
    vera = visitor(api, tenant, **profile)
    vera.send(action="message.send", client_msg_id="v1", text=visitor_text)
    conversation_id = vera.of_type("ack")[0]["conversation_id"]
    sam.send(action="message.send", conversation_id=conversation_id, client_msg_id="s1", text=agent_text)
    return vera, sam, conversation_id


def messages(api: Api, token: str, conversation_id: str) -> list[dict]:
    response = api.call("GET", f"/v1/conversations/{conversation_id}/messages", token=token)
    assert response.status_code == 200, response.body
    return response.json_body["items"]


def raw_key(**key: str | int) -> dict:
    return {name: ({"N": str(value)} if isinstance(value, int) else {"S": value}) for name, value in key.items()}


def count_kms_calls() -> list[str]:
    calls: list[str] = []
    runtime().client("kms").meta.events.register("before-call.kms.*", lambda model, **_: calls.append(model.name))
    return calls


# --- The hierarchy ---------------------------------------------------------------------------
def test_each_conversation_has_its_own_key_under_the_visitors_key(api: Api, tenant: dict):
    vera, _, first = chat(api, tenant)
    vera.send(action="conversation.close", conversation_id=first)
    vera.send(action="message.send", client_msg_id="v2", text="one more thing")
    second = vera.of_type("ack")[-1]["conversation_id"]
    assert second != first
    t = tenant["tenant_id"]
    visitor_id = ConversationModel.get(t, first).visitor_id
    assert list(VisitorModel.get(t, visitor_id).data_keys.as_dict()) == ["1"]
    keys = [ConversationModel.get(t, c).data_keys.as_dict()["1"] for c in (first, second)]
    assert keys[0] != keys[1]
    assert {int(m.key_version) for m in visible(MessageModel.query(f"{t}#{first}"))} == {1}


def test_a_conversation_key_copied_to_another_conversation_does_not_open(api: Api, tenant: dict, caplog):
    vera, _, first = chat(api, tenant)
    vera.send(action="conversation.close", conversation_id=first)
    vera.send(action="message.send", client_msg_id="v2", text="second chat")
    second = vera.of_type("ack")[-1]["conversation_id"]
    ddb = boto3.client("dynamodb")
    wrapped = ddb.get_item(TableName=CONVERSATIONS, Key=raw_key(tenant_id=tenant["tenant_id"],
                                                                 conversation_id=first))["Item"]["data_keys"]
    ddb.update_item(TableName=CONVERSATIONS, Key=raw_key(tenant_id=tenant["tenant_id"], conversation_id=second),
                    UpdateExpression="SET data_keys = :k", ExpressionAttributeValues={":k": wrapped})
    with caplog.at_level("ERROR", logger="switchboard.transcripts"):
        [message] = messages(api, tenant["admin_token"], second)
    assert message["corrupted"] is True and message["text"] is None
    assert "message_corrupted" in caplog.text


def test_a_message_copied_into_another_tenants_conversation_does_not_open(api: Api, tenant: dict):
    _, _, ours = chat(api, tenant, visitor_text="ours")
    other = api.signup(name="Other", email="boss@other.com")
    other["admin_token"] = api.login(other["tenant_id"], "boss@other.com")
    _, _, theirs = chat(api, other, visitor_text="theirs")
    ddb = boto3.client("dynamodb")
    ours_item = ddb.get_item(TableName=MESSAGES, Key=raw_key(
        conversation_key=f"{tenant['tenant_id']}#{ours}", seq=1))["Item"]
    ddb.update_item(TableName=MESSAGES, Key=raw_key(conversation_key=f"{other['tenant_id']}#{theirs}", seq=1),
                    UpdateExpression="SET sealed = :s", ExpressionAttributeValues={":s": ours_item["sealed"]})
    first = messages(api, other["admin_token"], theirs)[0]
    assert first["corrupted"] is True and first["text"] is None


# --- Proof of no plaintext ---------------------------------------------------------------------
def test_no_message_text_reaches_dynamodb_s3_or_the_logs(api: Api, tenant: dict, caplog, capsys):
    from tests.functional.test_conversations import add_faq

    add_faq(api, tenant)
    caplog.set_level(logging.DEBUG)
    texts = ["PLAINTEXT-visitor-4242 where is my parcel?", "PLAINTEXT-agent-9981 it ships today",
             "PLAINTEXT-second-7777 and the refund?"]
    sam = agent(api, tenant, "sam@acme.com")
    sam.send(action="presence.set", status="online")
    vera = visitor(api, tenant, name="Vera")
    vera.send(action="message.send", client_msg_id="v1", text="what's your returns policy?")  # the bot answers
    conversation_id = vera.of_type("ack")[0]["conversation_id"]
    vera.send(action="message.send", conversation_id=conversation_id, client_msg_id="v2", text=texts[0])
    vera.send(action="handoff.request", conversation_id=conversation_id)
    sam.send(action="message.send", conversation_id=conversation_id, client_msg_id="s1", text=texts[1])
    vera.send(action="message.send", conversation_id=conversation_id, client_msg_id="v3", text=texts[2])
    api.call("POST", "/v1/keys/rotate", token=tenant["admin_token"])
    vera.send(action="message.send", conversation_id=conversation_id, client_msg_id="v4", text=texts[0] + " again")
    # Reading and downloading decrypt: the plaintext passes through, and must leave no trace.
    assert [m["text"] for m in messages(api, tenant["admin_token"], conversation_id)][2:] == [
        texts[0], texts[1], texts[2], texts[0] + " again"]
    assert api.call("GET", f"/v1/conversations/{conversation_id}/transcript?format=text",
                    token=tenant["admin_token"]).status_code == 200

    stored = json.dumps(all_items(), default=repr)
    s3 = boto3.client("s3")
    objects = [s3.get_object(Bucket=b["Name"], Key=o["Key"])["Body"].read().decode(errors="replace")
               for b in s3.list_buckets()["Buckets"]
               for o in s3.list_objects_v2(Bucket=b["Name"]).get("Contents", [])]
    logs = caplog.text + "".join(capsys.readouterr())
    # The bot's answer is the tenant's own FAQ entry (stored as such); what visitors and agents
    # write is stored only as ciphertext.
    for text in [*texts, "PLAINTEXT"]:
        assert text not in stored
        assert all(text not in body for body in objects)
        assert text not in logs


# --- KMS cost ----------------------------------------------------------------------------------
def test_ordinary_chat_makes_no_kms_call_per_message(api: Api, tenant: dict, clock):
    use_limits(messages_per_second=1000, ws_frames_per_second=1000)  # 200 messages as fast as the test sends them
    vera, sam, conversation_id = chat(api, tenant)
    calls = count_kms_calls()
    for n in range(100):
        vera.send(action="message.send", conversation_id=conversation_id, client_msg_id=f"m{n}", text=f"message {n}")
        sam.send(action="message.send", conversation_id=conversation_id, client_msg_id=f"r{n}", text=f"reply {n}")
    assert len(messages(api, tenant["admin_token"], conversation_id)) == 100
    assert calls == []  # the tenant key is still cached from the first message
    clock.advance(301)
    vera.send(action="message.send", conversation_id=conversation_id, client_msg_id="late", text="still there?")
    assert calls == ["Decrypt"]  # once per container per TTL


# --- Rotation -----------------------------------------------------------------------------------
def test_rotation_seals_new_messages_under_the_new_version_and_old_ones_still_open(api: Api, tenant: dict):
    vera, sam, conversation_id = chat(api, tenant, visitor_text="before rotation")
    response = api.call("POST", "/v1/keys/rotate", token=tenant["admin_token"])
    assert response.status_code == 200, response.body
    assert response.json_body["current_version"] == 2
    assert [(v["version"], v["current"]) for v in response.json_body["versions"]] == [(1, False), (2, True)]
    vera.send(action="message.send", conversation_id=conversation_id, client_msg_id="v2", text="after rotation")

    t = tenant["tenant_id"]
    versions = {int(m.seq): int(m.key_version) for m in MessageModel.query(f"{t}#{conversation_id}")}
    assert versions == {1: 1, 2: 1, 3: 2}
    conversation = ConversationModel.get(t, conversation_id)
    assert sorted(conversation.data_keys.as_dict()) == ["1", "2"]
    assert sorted(VisitorModel.get(t, conversation.visitor_id).data_keys.as_dict()) == ["1", "2"]
    assert [m["text"] for m in messages(api, tenant["admin_token"], conversation_id)] == [
        "before rotation", "hi, how can I help?", "after rotation"]
    listed = api.call("GET", "/v1/keys", token=tenant["admin_token"]).json_body
    assert listed["current_version"] == 2 and "wrapped" not in json.dumps(listed)


def test_rotation_is_for_admins_and_racing_rotations_make_one_version_each(api: Api, tenant: dict):
    sam_token = api.login(tenant["tenant_id"], api.add_agent(tenant["admin_token"], "sam@acme.com")["email"])
    assert api.call("POST", "/v1/keys/rotate", token=sam_token).status_code == 403
    with ThreadPoolExecutor(6) as pool:
        statuses = list(pool.map(lambda _: api.call("POST", "/v1/keys/rotate", token=tenant["admin_token"]).status_code,
                                 range(6)))
    assert set(statuses) <= {200, 409} and 200 in statuses
    listed = api.call("GET", "/v1/keys", token=tenant["admin_token"]).json_body
    assert [v["version"] for v in listed["versions"]] == list(range(1, statuses.count(200) + 2))


# --- Erasure ------------------------------------------------------------------------------------
def test_erasure_shreds_the_visitors_transcripts_and_personal_data(api: Api, tenant: dict):
    vera, sam, conversation_id = chat(api, tenant, name="Vera Example", email="vera@example.org")
    t = tenant["tenant_id"]
    visitor_id = ConversationModel.get(t, conversation_id).visitor_id
    api.call("PATCH", f"/v1/visitors/{visitor_id}", {"tags": ["vip"], "notes": "lives at 1 Main St"},
             token=tenant["admin_token"])
    agent_id = ConversationModel.get(t, conversation_id).agent_id
    assert AgentModel.get(t, agent_id).load == 1

    response = api.call("DELETE", f"/v1/visitors/{visitor_id}", token=tenant["admin_token"])
    assert response.status_code == 202, response.body
    assert response.json_body["conversations_shredded"] == 1

    # Messages come back redacted, never text; the open conversation was closed and capacity freed.
    listed = messages(api, tenant["admin_token"], conversation_id)
    assert [(m["text"], m["redacted"]) for m in listed] == [(None, True), (None, True)]
    conversation = ConversationModel.get(t, conversation_id)
    assert conversation.status == "closed" and conversation.shredded_at and not conversation.data_keys.as_dict()
    assert AgentModel.get(t, agent_id).load == 0
    assert sam.of_type("conversation.closed")
    # The profile is a tombstone; the visitor's connection is gone and their token no longer works.
    profile = api.call("GET", f"/v1/visitors/{visitor_id}", token=tenant["admin_token"]).json_body
    assert profile["erased_at"] and (profile["name"], profile["email"], profile["tags"], profile["notes"]) == (
        None, None, [], "")
    raw_visitor = json.dumps(all_items()["switchboard-test-visitors"])
    assert "Vera Example" not in raw_visitor and "vera@example.org" not in raw_visitor and "Main St" not in raw_visitor
    assert ConnectionModel.count(vera.connection_id) == 0
    assert api.call("PATCH", f"/v1/visitors/{visitor_id}", {"tags": ["x"]},
                    token=tenant["admin_token"]).json_body["error"]["code"] == "visitor_erased"
    # Erasing again finishes any leftovers and is harmless.
    again = api.call("DELETE", f"/v1/visitors/{visitor_id}", token=tenant["admin_token"])
    assert again.status_code == 202 and again.json_body["conversations_shredded"] == 0


def test_after_erasure_even_the_tenant_key_recovers_nothing(api: Api, tenant: dict):
    _, _, conversation_id = chat(api, tenant, visitor_text="SECRET-1234 my address")
    t = tenant["tenant_id"]
    visitor_id = ConversationModel.get(t, conversation_id).visitor_id
    # The attack works while the keys exist (so the test can tell)...
    assert recover_with_tenant_key(t, visitor_id, conversation_id) == "SECRET-1234 my address"
    assert api.call("DELETE", f"/v1/visitors/{visitor_id}", token=tenant["admin_token"]).status_code == 202
    # ...and finds nothing after erasure.
    assert recover_with_tenant_key(t, visitor_id, conversation_id) is None


def recover_with_tenant_key(tenant_id: str, visitor_id: str, conversation_id: str) -> str | None:
    """An attacker holding the tenant key (unwrapped through KMS), a copy of every table and the
    documented wrapping formats (docs/transcripts.md) tries every stored blob at every layer."""
    ddb = boto3.client("dynamodb")
    tenant_item = ddb.get_item(TableName="switchboard-test-tenants", Key=raw_key(tenant_id=tenant_id))["Item"]
    wrapped = tenant_item["data_keys"]["L"][0]["M"]["wrapped"]["B"]
    tenant_key = boto3.client("kms").decrypt(CiphertextBlob=wrapped,
                                             EncryptionContext={"tenant_id": tenant_id})["Plaintext"]
    blobs = [value["B"] for rows in all_items().values() for row in rows for value in _binary_values(row)]
    visitor_keys = _opened(tenant_key, blobs, f"switchboard.visitor-key.v1|{tenant_id}|{visitor_id}|1")
    conversation_keys = [k for vk in visitor_keys for k in _opened(
        vk, blobs, f"switchboard.conversation-key.v1|{tenant_id}|{conversation_id}|1")]
    sealed = ddb.get_item(TableName=MESSAGES, Key=raw_key(
        conversation_key=f"{tenant_id}#{conversation_id}", seq=1))["Item"]["sealed"]["B"]
    place = f"switchboard.message.v1|{tenant_id}|{conversation_id}|1"
    for key in [tenant_key, *visitor_keys, *conversation_keys]:
        for text in _opened(key, [sealed], place):
            return text.decode()
    return None


def _binary_values(value):
    if isinstance(value, dict):
        if "B" in value:
            yield value
        for inner in value.values():
            yield from _binary_values(inner)
    elif isinstance(value, list):
        for inner in value:
            yield from _binary_values(inner)


def _opened(key: bytes, blobs: list[bytes], place: str) -> list[bytes]:
    """What opens under key with the given associated data (or none at all)."""
    found = []
    for blob in blobs:
        for aad in (place.encode(), None):
            try:
                found.append(AESGCM(key).decrypt(blob[:12], blob[12:], aad))
                break
            except (InvalidTag, ValueError):
                continue
    return found


def test_erasure_is_for_admin_and_compliance_and_scoped_to_the_tenant(api: Api, tenant: dict):
    _, _, conversation_id = chat(api, tenant)
    visitor_id = ConversationModel.get(tenant["tenant_id"], conversation_id).visitor_id
    sam_token = api.login(tenant["tenant_id"], "sam@acme.com")
    assert api.call("DELETE", f"/v1/visitors/{visitor_id}", token=sam_token).status_code == 403
    other = api.signup(name="Other", email="boss@other.com")
    other_token = api.login(other["tenant_id"], "boss@other.com")
    assert api.call("DELETE", f"/v1/visitors/{visitor_id}", token=other_token).status_code == 404
    assert api.call("DELETE", "/v1/visitors/v_nobody", token=tenant["admin_token"]).status_code == 404
    assert [m["text"] for m in messages(api, tenant["admin_token"], conversation_id)] == [
        "hello there", "hi, how can I help?"]
    compliance = api.add_agent(tenant["admin_token"], "cora@acme.com", role="compliance")
    token = api.login(tenant["tenant_id"], compliance["email"])
    assert api.call("DELETE", f"/v1/visitors/{visitor_id}", token=token).status_code == 202


def test_an_erased_visitors_token_starts_a_new_visitor_and_cannot_connect(api: Api, tenant: dict):
    session = api.call("POST", f"/v1/widget/{tenant['widget_key']}/sessions", {"name": "Vera"}).json_body
    vera = Party(session["visitor_token"])
    vera.send(action="message.send", client_msg_id="v1", text="hello")
    api.call("DELETE", f"/v1/visitors/{session['visitor_id']}", token=tenant["admin_token"])
    with pytest.raises(AssertionError):
        Party(session["visitor_token"])
    again = api.call("POST", f"/v1/widget/{tenant['widget_key']}/sessions",
                     {"visitor_token": session["visitor_token"]}).json_body
    assert again["visitor_id"] != session["visitor_id"]


def test_erasure_leaves_other_visitors_alone(api: Api, tenant: dict):
    _, _, erased = chat(api, tenant, visitor_text="erase me")
    _, _, kept = chat(api, tenant, visitor_text="keep me", agent_email="kim@acme.com")
    t = tenant["tenant_id"]
    api.call("DELETE", f"/v1/visitors/{ConversationModel.get(t, erased).visitor_id}", token=tenant["admin_token"])
    assert messages(api, tenant["admin_token"], kept)[0]["text"] == "keep me"


# --- Retention ----------------------------------------------------------------------------------
def without_attested(summary: dict) -> dict:
    """How many tenants a run attested depends on the UTC day (tests/functional/test_receipts_retention.py)."""
    return {key: value for key, value in summary.items() if key != "attested"}


def test_retention_shreds_conversations_closed_longer_ago_than_retention_days(api: Api, tenant: dict, clock):
    assert api.call("PUT", "/v1/settings", {"retention_days": 2}, token=tenant["admin_token"]).status_code == 200
    vera, _, old = chat(api, tenant, visitor_text="old chat")
    vera.send(action="conversation.close", conversation_id=old)
    _, _, still_open = chat(api, tenant, visitor_text="open chat", agent_email="kim@acme.com")
    other = api.signup(name="Other", email="boss@other.com")  # keeps the default 365 days
    other["admin_token"] = api.login(other["tenant_id"], "boss@other.com")
    other_visitor, _, theirs = chat(api, other, visitor_text="their chat")
    other_visitor.send(action="conversation.close", conversation_id=theirs)

    clock.advance(2 * 86400 - 60)
    assert without_attested(run_job("retention")) == {"tenants": 2, "shredded": 0, "pass_finished": True}
    clock.advance(120)
    assert without_attested(run_job("retention")) == {"tenants": 2, "shredded": 1, "pass_finished": True}
    ours_token, their_token = (api.login(tenant["tenant_id"], "admin@acme.com"),  # two days on: new sessions
                               api.login(other["tenant_id"], "boss@other.com"))
    assert [m["redacted"] for m in messages(api, ours_token, old)] == [True, True]
    assert ConversationModel.get(tenant["tenant_id"], old).shredded_at is not None
    assert messages(api, ours_token, still_open)[0]["text"] == "open chat"
    assert messages(api, their_token, theirs)[0]["text"] == "their chat"
    assert without_attested(run_job("retention")) == {"tenants": 2, "shredded": 0, "pass_finished": True}  # idempotent


def test_a_longer_retention_set_after_close_keeps_the_conversation(api: Api, tenant: dict, clock):
    api.call("PUT", "/v1/settings", {"retention_days": 1}, token=tenant["admin_token"])
    vera, _, conversation_id = chat(api, tenant)
    vera.send(action="conversation.close", conversation_id=conversation_id)
    api.call("PUT", "/v1/settings", {"retention_days": 30}, token=tenant["admin_token"])
    clock.advance(2 * 86400)
    assert run_job("retention")["shredded"] == 0
    token = api.login(tenant["tenant_id"], "admin@acme.com")
    assert messages(api, token, conversation_id)[0]["text"] == "hello there"


# --- Downloads ----------------------------------------------------------------------------------
def test_a_transcript_downloads_as_json_and_as_text(api: Api, tenant: dict):
    vera, sam, conversation_id = chat(api, tenant, visitor_text="line one\nline two", name="Vera")
    as_json = api.call("GET", f"/v1/conversations/{conversation_id}/transcript", token=tenant["admin_token"])
    assert as_json.status_code == 200
    assert as_json.headers["Content-Disposition"] == f'attachment; filename="transcript-{conversation_id}.json"'
    body = as_json.json_body
    assert body["conversation"]["conversation_id"] == conversation_id
    assert [(m["seq"], m["sender"]["kind"], m["text"]) for m in body["messages"]] == [
        (1, "visitor", "line one\nline two"), (2, "agent", "hi, how can I help?")]
    [exported] = audit_events(tenant["tenant_id"], "transcript.exported")
    assert exported["target"] == conversation_id and exported["details"] == {"count": 2}

    as_text = api.call("GET", f"/v1/conversations/{conversation_id}/transcript?format=text",
                       token=tenant["admin_token"])
    assert as_text.headers["Content-Type"].startswith("text/plain")
    lines = as_text.body.decode().splitlines()
    assert lines[0].startswith(f"Conversation {conversation_id} (assigned")
    assert any(line.endswith("#1 Visitor: line one") for line in lines)
    assert "    line two" in lines
    assert any(line.endswith("#2 Sam (agent): hi, how can I help?") for line in lines)


def test_transcript_downloads_are_scoped_like_reads(api: Api, tenant: dict):
    _, _, conversation_id = chat(api, tenant)
    kim_token = api.login(tenant["tenant_id"], api.add_agent(tenant["admin_token"], "kim@acme.com")["email"])
    path = f"/v1/conversations/{conversation_id}/transcript"
    assert api.call("GET", path, token=kim_token).status_code == 404
    assert api.call("GET", path, token=api.login(tenant["tenant_id"], "sam@acme.com")).status_code == 200
    assert api.call("GET", path + "?format=pdf", token=tenant["admin_token"]).status_code == 400
    other = api.signup(name="Other", email="boss@other.com")
    assert api.call("GET", path, token=api.login(other["tenant_id"], "boss@other.com")).status_code == 404
