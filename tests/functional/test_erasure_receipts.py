"""Proof of forgetting (docs/audit.md): an erasure writes a signed receipt naming the keys and records it
destroyed; the offline verifier reports it from an export and refuses a doctored one; the auditor's
key-store check (erasure_proof) passes after a real erasure and fails when a named key or a ciphertext
bound to another key is left. Through the real handlers on moto."""
from __future__ import annotations

import base64
import copy
import json
from pathlib import Path

import boto3
import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec

from chalicelib.audit.chain import canonical
from chalicelib.audit.signing import audit_signer
from chalicelib.storage.conversations import ConversationModel
from chalicelib.transcripts import erasure_proof
from chalicelib.visitors import erasure
from devstack.harness import Api, run_job
from tests.functional.audit_exports import export, offline_verify, rewrite_and_export, write_public_key
from tests.functional.test_transcripts import MESSAGES, chat, raw_key
from tests.helpers import all_items, audit_events, without_rate_limits

EVERYTHING = ("2000-01-01T00:00:00Z", "2100-01-01T00:00:00Z")
VISITORS = "switchboard-test-visitors"


def vk(t: str, v: str, n: int) -> str:
    return f"switchboard.visitor-key.v1|{t}|{v}|{n}"


def ck(t: str, c: str, n: int) -> str:
    return f"switchboard.conversation-key.v1|{t}|{c}|{n}"


@pytest.fixture
def erased(api: Api, tenant: dict, clock) -> dict:
    return erase_visitor(api, tenant, clock)


def erase_visitor(api: Api, tenant: dict, clock) -> dict:
    """A visitor with two conversations, one closed (its survey answered with a comment) before a key
    rotation and one open across it, erased."""
    t = tenant["tenant_id"]
    vera, sam, first = chat(api, tenant, visitor_text="first chat")
    vera.send(action="conversation.close", conversation_id=first)
    clock.advance(301)  # the survey's delay
    assert run_job("send-surveys")["websocket"] == 1
    [survey] = vera.of_type("survey.request")
    answered = api.call("POST", f"/v1/surveys/{survey['survey_token']}", {"rating": 4, "comment": "kind"})
    assert answered.status_code == 200
    vera.send(action="message.send", client_msg_id="v2", text="second chat")
    second = vera.of_type("ack")[-1]["conversation_id"]
    assert api.call("POST", "/v1/keys/rotate", token=tenant["admin_token"]).status_code == 200
    vera.send(action="message.send", conversation_id=second, client_msg_id="v3", text="after rotation")
    visitor_id = ConversationModel.get(t, first).visitor_id
    before = {"visitor": boto3.client("dynamodb").get_item(TableName=VISITORS, Key=raw_key(
        tenant_id=t, visitor_id=visitor_id))["Item"], "second": ConversationModel.get(t, second).data_keys.as_dict()}
    assert api.call("DELETE", f"/v1/visitors/{visitor_id}", token=tenant["admin_token"]).status_code == 202
    return {"t": t, "visitor_id": visitor_id, "conversations": sorted([first, second]), "second": second,
            "before": before}


def test_an_erasure_writes_a_signed_receipt_naming_the_keys_and_records_it_destroyed(api: Api, tenant: dict,
                                                                                     erased: dict):
    t, v = erased["t"], erased["visitor_id"]
    [event] = audit_events(t, "visitor.erasure_receipt")
    receipt = event["details"]
    assert sorted(receipt) == ["algorithm", "digest", "key_id", "signature"]
    assert audit_signer().verifies(receipt["digest"], receipt["signature"])
    assert receipt["key_id"] == audit_signer().key_id and receipt["algorithm"] == "ECDSA_P256_SHA256"
    digest = receipt["digest"]
    [erased_event] = audit_events(t, "visitor.erased")
    assert digest["receipt_id"].startswith("er_")
    assert digest == {
        "kind": "erasure_receipt", "tenant_id": t, "visitor_id": v, "receipt_id": digest["receipt_id"],
        "part": 1, "parts": 1, "erased_at": digest["erased_at"],  # small enough for one audit event
        "erased_by": erased_event["actor"], "generated_at": digest["generated_at"],
        "visitor_keys": [vk(t, v, 1), vk(t, v, 2)],  # one per tenant key version the visitor held
        "conversation_count": 2,
        "conversations": [{"conversation_id": c, "keys": [ck(t, c, 1), ck(t, c, 2)]} for c in erased["conversations"]],
        "identity_link_removed": False}
    assert event["target"] == v and erased_event["actor"]["kind"] == "agent" and erased_event["seq"] < event["seq"]
    # Compliance reads the same signed receipt; nobody else, and not another tenant's.
    answer = api.call("GET", f"/v1/visitors/{v}/erasure-receipt", token=tenant["admin_token"])
    assert answer.status_code == 200 and answer.json_body == {**receipt, "further_parts": []}
    sam_token = api.login(t, "sam@acme.com")
    assert api.call("GET", f"/v1/visitors/{v}/erasure-receipt", token=sam_token).status_code == 403
    other = api.signup(name="Other", email="boss@other.com")
    other_token = api.login(other["tenant_id"], "boss@other.com")
    assert api.call("GET", f"/v1/visitors/{v}/erasure-receipt", token=other_token).status_code == 404


def test_no_receipt_before_an_erasure_has_finished_and_the_repeat_that_finishes_writes_it(
        api: Api, tenant: dict, monkeypatch):
    t = tenant["tenant_id"]
    _, _, conversation_id = chat(api, tenant)
    visitor_id = ConversationModel.get(t, conversation_id).visitor_id
    assert api.call("GET", f"/v1/visitors/{visitor_id}/erasure-receipt",
                    token=tenant["admin_token"]).status_code == 404  # not erased
    real_end = erasure.end

    def racing_end(*args, **kwargs):
        raise erasure.Conflict("The visitor's conversations kept changing; erase again to finish.")

    monkeypatch.setattr(erasure, "end", racing_end)  # the open conversation cannot be closed this time
    assert api.call("DELETE", f"/v1/visitors/{visitor_id}", token=tenant["admin_token"]).status_code == 409
    assert [e["details"] for e in audit_events(t, "visitor.erased")] == [
        {"conversations_shredded": 0, "unfinished": True}]
    assert audit_events(t, "visitor.erasure_receipt") == []
    assert api.call("GET", f"/v1/visitors/{visitor_id}/erasure-receipt",
                    token=tenant["admin_token"]).status_code == 404
    monkeypatch.setattr(erasure, "end", real_end)
    again = api.call("DELETE", f"/v1/visitors/{visitor_id}", token=tenant["admin_token"])
    assert again.status_code == 202 and again.json_body["conversations_shredded"] == 1
    [receipt] = audit_events(t, "visitor.erasure_receipt")
    # The keys the first call's tombstone removed are named by the repeat, which never saw them.
    assert receipt["details"]["digest"]["visitor_keys"] == [vk(t, visitor_id, 1)]
    assert receipt["details"]["digest"]["conversations"] == [
        {"conversation_id": conversation_id, "keys": [ck(t, conversation_id, 1)]}]


# --- The offline verifier ------------------------------------------------------------------------
def test_the_verifier_reports_receipts_from_an_export_and_refuses_doctored_ones(api: Api, tenant: dict,
                                                                               erased: dict, tmp_path: Path):
    t, v = erased["t"], erased["visitor_id"]
    key = write_public_key(api, tenant, tmp_path)
    _, path = export(api, tenant, tmp_path, *EVERYTHING, "export")
    checked = offline_verify(path, "--public-key", key, "--receipts")
    assert checked.returncode == 0, checked.stdout + checked.stderr
    [event] = audit_events(t, "visitor.erasure_receipt")
    assert "  erasures      1 signed receipt(s), 6 key id(s) named destroyed\n" in checked.stdout
    assert (f"    seq {event['seq']} erasure of visitor {v} at {event['details']['digest']['erased_at']} by agent "
            f"{event['actor']['id']}: 2 visitor key(s), 2 conversation(s) (4 key(s)), identity link none\n"
            ) in checked.stdout

    other_key = ec.generate_private_key(ec.SECP256R1())

    def forged_key_id(details: dict) -> None:
        details["digest"]["conversations"][0]["keys"][0] = ck(t, "c_elsewhere", 1)

    def other_visitor(details: dict) -> None:
        details["digest"]["visitor_id"] = "v_someone_else"

    def resigned(details: dict) -> None:
        forged_key_id(details)
        details["signature"] = base64.b64encode(other_key.sign(canonical(details["digest"]),
                                                               ec.ECDSA(hashes.SHA256()))).decode()

    for n, doctor in enumerate((forged_key_id, other_visitor, resigned)):
        doctored = rewrite_and_export(api, tenant, tmp_path, event["seq"], doctor, f"doctored{n}")
        refused = offline_verify(doctored, "--public-key", key)
        assert refused.returncode == 1, refused.stdout
        assert refused.stdout.startswith(f"INVALID {doctored}: the signature of the erasure_receipt at seq "
                                         f"{event['seq']} does not verify with this public key"), refused.stdout


# --- The key-store check -------------------------------------------------------------------------
def prove(api: Api, tenant: dict, tmp: Path, capsys, receipt: dict | None = None) -> tuple[int, str]:
    v = receipt["digest"]["visitor_id"] if receipt else None
    if receipt is None:
        [event] = audit_events(tenant["tenant_id"], "visitor.erasure_receipt")
        receipt = event["details"]
    path = tmp / "receipt.json"
    path.write_text(json.dumps(receipt))
    assert v is None or v == receipt["digest"]["visitor_id"]
    capsys.readouterr()
    code = erasure_proof.main(["--receipt", str(path), "--public-key", str(write_public_key(api, tenant, tmp)),
                               "--tables-prefix", "switchboard-test"])
    return code, capsys.readouterr().out


def test_the_key_store_check_proves_a_real_erasure_and_writes_nothing(api: Api, tenant: dict, erased: dict,
                                                                      tmp_path: Path, capsys):
    before = without_rate_limits(all_items())  # the public key's GET counts against the caller's limits
    code, out = prove(api, tenant, tmp_path, capsys)
    assert code == 0, out
    assert out.startswith(f"PROVEN {tmp_path / 'receipt.json'}: nothing left of visitor {erased['visitor_id']} "
                          "opens with a key that still exists\n")
    assert "  conversations  2 named, 2 in the store for the visitor, none unnamed; none holds a wrapped key\n" in out
    # The visitor's three messages and the agent's reply in the first; the close markers are not ciphertexts.
    assert "  ciphertexts    4 message(s) and 1 survey comment(s) left, each bound to a key id the receipt names\n" \
        in out
    assert without_rate_limits(all_items()) == before


def test_the_key_store_check_fails_when_a_named_key_or_a_foreign_ciphertext_is_left(
        api: Api, tenant: dict, erased: dict, tmp_path: Path, capsys):
    t, v, second = erased["t"], erased["visitor_id"], erased["second"]
    ddb = boto3.client("dynamodb")
    # The visitor's data keys restored (from a backup, say): the receipt's claim no longer holds.
    ddb.put_item(TableName=VISITORS, Item=erased["before"]["visitor"])
    code, out = prove(api, tenant, tmp_path, capsys)
    assert code == 1 and f"visitor {v} is not erased in the store" in out, out
    restored = copy.deepcopy(erased["before"]["visitor"])
    restored["erased_at"] = {"S": "2026-01-01T00:00:00.000000+0000"}
    for field in erasure.PERSONAL_FIELDS:
        restored.pop(field, None)
    ddb.put_item(TableName=VISITORS, Item=restored)
    code, out = prove(api, tenant, tmp_path, capsys)
    assert code == 1 and out.startswith("NOT PROVEN") and \
        f"visitor {v} still holds wrapped key {vk(t, v, 1)}, which the receipt names destroyed" in out, out
    ddb.update_item(TableName=VISITORS, Key=raw_key(tenant_id=t, visitor_id=v), UpdateExpression="REMOVE data_keys")
    assert prove(api, tenant, tmp_path, capsys)[0] == 0

    # A conversation's wrapped key put back.
    ConversationModel(t, second).update(actions=[ConversationModel.data_keys.set(erased["before"]["second"])])
    code, out = prove(api, tenant, tmp_path, capsys)
    assert code == 1 and f"conversation {second} still holds wrapped key {ck(t, second, 1)}" in out, out
    ConversationModel(t, second).update(actions=[ConversationModel.data_keys.remove()])

    # A ciphertext left that is bound to a key the receipt does not name.
    ddb.put_item(TableName=MESSAGES, Item={**raw_key(conversation_key=f"{t}#{second}", seq=99),
                                           "sender_kind": {"S": "agent"}, "sender_id": {"S": "a_x"},
                                           "sealed": {"B": b"\x00" * 40}, "key_version": {"N": "7"},
                                           "sent_at": {"S": "2026-01-01T00:00:00.000000+0000"}})
    code, out = prove(api, tenant, tmp_path, capsys)
    assert code == 1 and (f"message seq 99 of conversation {second} is bound to key {ck(t, second, 7)}, which the "
                          "receipt does not name") in out, out
    ddb.delete_item(TableName=MESSAGES, Key=raw_key(conversation_key=f"{t}#{second}", seq=99))
    # A survey comment bound to a key the receipt does not name.
    first = next(c for c in erased["conversations"] if c != second)
    ddb.update_item(TableName="switchboard-test-surveys", Key=raw_key(tenant_id=t, conversation_id=first),
                    UpdateExpression="SET comment_key_version = :v", ExpressionAttributeValues={":v": {"N": "3"}})
    code, out = prove(api, tenant, tmp_path, capsys)
    assert code == 1 and f"the survey comment of conversation {first} is bound to key {ck(t, first, 3)}" in out, out
    ddb.update_item(TableName="switchboard-test-surveys", Key=raw_key(tenant_id=t, conversation_id=first),
                    UpdateExpression="SET comment_key_version = :v", ExpressionAttributeValues={":v": {"N": "1"}})

    # A receipt that leaves out one of the visitor's conversations (re-signed, so the signature holds).
    [event] = audit_events(t, "visitor.erasure_receipt")
    digest = copy.deepcopy(event["details"]["digest"])
    digest["conversations"] = [c for c in digest["conversations"] if c["conversation_id"] != second]
    partial = {**event["details"], "digest": digest, "signature": audit_signer().sign(digest)}
    code, out = prove(api, tenant, tmp_path, capsys, partial)
    assert code == 1 and "name 1 conversation(s), the receipt says 2" in out, out
    digest["conversation_count"] = 1  # and its count too: the store still tells
    partial = {**event["details"], "digest": digest, "signature": audit_signer().sign(digest)}
    code, out = prove(api, tenant, tmp_path, capsys, partial)
    assert code == 1 and f"conversation {second} of visitor {v} is in the store but not named by the receipt" in out
    # A doctored receipt does not get as far as the store.
    digest["visitor_keys"] = []
    code, out = prove(api, tenant, tmp_path, capsys, {**partial, "digest": digest})
    assert code == 1 and "does not verify with this public key" in out, out


def test_a_key_added_while_the_erasure_reads_the_visitor_is_named_too(api: Api, tenant: dict, monkeypatch):
    """The tombstone is conditioned on the visitor holding exactly the keys read: a key added in between
    (a rotation's first message) makes it read again, so the receipt never leaves a destroyed key out."""
    t = tenant["tenant_id"]
    _, _, conversation_id = chat(api, tenant)
    visitor_id = ConversationModel.get(t, conversation_id).visitor_id
    real_transaction, raced = erasure.transaction, []

    def racing_transaction():
        if not raced:  # another container adds version 2 between the erasure's read and its write
            raced.append(boto3.client("dynamodb").update_item(
                TableName=VISITORS, Key=raw_key(tenant_id=t, visitor_id=visitor_id),
                UpdateExpression="SET data_keys.#v = :k", ExpressionAttributeNames={"#v": "2"},
                ExpressionAttributeValues={":k": {"B": b"\x01" * 60}}))
        return real_transaction()

    monkeypatch.setattr(erasure, "transaction", racing_transaction)
    assert api.call("DELETE", f"/v1/visitors/{visitor_id}", token=tenant["admin_token"]).status_code == 202
    [receipt] = audit_events(t, "visitor.erasure_receipt")
    assert receipt["details"]["digest"]["visitor_keys"] == [vk(t, visitor_id, 1), vk(t, visitor_id, 2)]
    item = boto3.client("dynamodb").get_item(TableName=VISITORS, Key=raw_key(tenant_id=t, visitor_id=visitor_id))
    assert "data_keys" not in item["Item"] and item["Item"]["erasure"]


def test_audit_verify_raises_an_alarm_on_a_receipt_edited_in_storage(api: Api, tenant: dict, erased: dict,
                                                                     tmp_path: Path):
    t = erased["t"]
    [event] = audit_events(t, "visitor.erasure_receipt")
    rewrite_and_export(api, tenant, tmp_path, event["seq"],
                       lambda details: details["digest"].update(identity_link_removed=True), "edited")
    # The chain was rehashed after the edit and no checkpoint was signed before it: only the receipt's
    # own signature tells.
    assert run_job("audit-verify")["broken"] == [
        {"tenant_id": t, "seq": event["seq"], "reason": "its signed erasure_receipt does not verify"}]
