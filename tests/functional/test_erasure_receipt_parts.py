"""A receipt too large for one audit event (DynamoDB's 400 KB item) is written in numbered parts, each its
own signed event (docs/audit.md, Proof of forgetting): the route answers them all, the offline verifier
puts them together, erasure_proof proves the union and refuses a receipt with a part left out. Through
the real handlers on moto; the byte budget is lowered so a visitor with two conversations needs two
parts, and one test keeps the real budget with 2,000 conversations."""
from __future__ import annotations

import json
from pathlib import Path

import boto3
import pytest

from chalicelib.audit.chain import canonical
from chalicelib.audit.signing import audit_signer
from chalicelib.ids import new_id
from chalicelib.transcripts import erasure_proof
from chalicelib.visitors import erasure_receipt
from devstack.harness import Api
from tests.functional.audit_exports import export, offline_verify, write_public_key
from tests.functional.test_erasure_receipts import EVERYTHING, VISITORS, ck, erase_visitor, vk
from tests.functional.test_transcripts import chat, raw_key
from tests.helpers import audit_events, error_of

CONVERSATIONS = "switchboard-test-conversations"
AUDIT_EVENTS = "switchboard-test-audit-events"


@pytest.fixture
def erased_in_parts(api: Api, tenant: dict, clock, monkeypatch) -> dict:
    """The two-conversation erasure of test_erasure_receipts.py, with room for one conversation a part."""
    # A part's fields take about 580 bytes and a conversation at two key versions about 250: room for one.
    monkeypatch.setattr(erasure_receipt, "PART_BYTES", erasure_receipt.SIGNED_OVERHEAD + 900)
    return erase_visitor(api, tenant, clock)


def proof(api: Api, tenant: dict, tmp: Path, capsys, *files: object) -> tuple[int, str]:
    """erasure_proof over files, each holding the JSON given; (exit code, output)."""
    args = []
    for n, held in enumerate(files):
        path = tmp / f"receipt{n}.json"
        path.write_text(json.dumps(held))
        args += ["--receipt", str(path)]
    capsys.readouterr()
    code = erasure_proof.main([*args, "--public-key", str(write_public_key(api, tenant, tmp)),
                               "--tables-prefix", "switchboard-test"])
    return code, capsys.readouterr().out


def test_a_large_receipt_is_written_in_signed_parts_and_the_route_answers_them_all(
        api: Api, tenant: dict, erased_in_parts: dict):
    t, v = erased_in_parts["t"], erased_in_parts["visitor_id"]
    events = audit_events(t, "visitor.erasure_receipt")
    assert len(events) == 2 and all(event["target"] == v for event in events)
    first, second = (event["details"]["digest"] for event in events)
    assert first["receipt_id"] == second["receipt_id"] and first["receipt_id"].startswith("er_")
    assert [(d["part"], d["parts"], d["conversation_count"]) for d in (first, second)] == [(1, 2, 2), (2, 2, 2)]
    # The visitor's keys in every part; the conversations split between them, each once.
    assert first["visitor_keys"] == second["visitor_keys"] == [vk(t, v, 1), vk(t, v, 2)]
    assert first["conversations"] + second["conversations"] == [
        {"conversation_id": c, "keys": [ck(t, c, 1), ck(t, c, 2)]} for c in erased_in_parts["conversations"]]
    assert {k: val for k, val in first.items() if k not in ("part", "conversations")} == \
        {k: val for k, val in second.items() if k not in ("part", "conversations")}
    # The tombstone keeps part 1; the route answers it with the rest, as signed on the trail.
    tombstone = boto3.client("dynamodb").get_item(TableName=VISITORS, Key=raw_key(tenant_id=t, visitor_id=v))["Item"]
    assert json.loads(tombstone["erasure_receipt"]["S"]) == events[0]["details"]
    answer = api.call("GET", f"/v1/visitors/{v}/erasure-receipt", token=tenant["admin_token"])
    assert answer.status_code == 200
    assert answer.json_body == {**events[0]["details"], "further_parts": [events[1]["details"]]}
    # A part the index does not show yet (it is read eventually consistent): ask again, never a short answer.
    key = raw_key(tenant_id=t, seq=events[1]["seq"])
    ddb = boto3.client("dynamodb")
    held = ddb.get_item(TableName=AUDIT_EVENTS, Key=key)["Item"]["subject_key"]
    ddb.update_item(TableName=AUDIT_EVENTS, Key=key, UpdateExpression="REMOVE subject_key")
    lagging = api.call("GET", f"/v1/visitors/{v}/erasure-receipt", token=tenant["admin_token"])
    assert lagging.status_code == 409 and error_of(lagging)["code"] == "conflict"
    ddb.update_item(TableName=AUDIT_EVENTS, Key=key, UpdateExpression="SET subject_key = :k",
                    ExpressionAttributeValues={":k": held})
    again = api.call("GET", f"/v1/visitors/{v}/erasure-receipt", token=tenant["admin_token"])
    assert again.json_body == answer.json_body


def test_the_verifier_and_the_key_store_check_take_the_parts_and_refuse_a_missing_one(
        api: Api, tenant: dict, erased_in_parts: dict, tmp_path: Path, capsys):
    t, v = erased_in_parts["t"], erased_in_parts["visitor_id"]
    key = write_public_key(api, tenant, tmp_path)
    _, path = export(api, tenant, tmp_path, *EVERYTHING, "export")
    checked = offline_verify(path, "--public-key", key, "--receipts", "--strict")
    assert checked.returncode == 0, checked.stdout + checked.stderr
    first, second = audit_events(t, "visitor.erasure_receipt")
    receipt_id = first["details"]["digest"]["receipt_id"]
    assert "  erasures      1 signed receipt(s) in 2 parts, 6 key id(s) named destroyed\n" in checked.stdout
    assert (f"    seq {first['seq']}, {second['seq']} erasure of visitor {v} at "
            f"{first['details']['digest']['erased_at']} by agent {first['actor']['id']} (receipt {receipt_id}, "
            "2 of 2 parts): 2 visitor key(s), 2 conversation(s) (4 key(s)), identity link none\n") in checked.stdout

    # The route's answer as it comes, the parts as separate files, or a file holding the list: the union.
    answer = api.call("GET", f"/v1/visitors/{v}/erasure-receipt", token=tenant["admin_token"]).json_body
    for files in ([answer], [first["details"], second["details"]], [[second["details"], first["details"]]]):
        code, out = proof(api, tenant, tmp_path, capsys, *files)
        assert code == 0, out
        assert f"signed erasure_receipt ({receipt_id}, all 2 parts) verified" in out
        assert "  conversations  2 named, 2 in the store for the visitor, none unnamed; none holds a wrapped key\n" \
            in out
    # A part left out: its conversations are unaccounted for, whichever part it is.
    for given in (first, second):
        code, out = proof(api, tenant, tmp_path, capsys, given["details"])
        missing = 2 if given is first else 1
        assert code == 1 and f"receipt {receipt_id} has 2 parts and part(s) {missing} were not given" in out, out
    code, out = proof(api, tenant, tmp_path, capsys, {**answer, "further_parts": []})
    assert code == 1 and "part(s) 2 were not given" in out, out


def test_parts_of_two_receipts_are_not_one_receipt(api: Api, tenant: dict, erased_in_parts: dict,
                                                     tmp_path: Path, capsys):
    v = erased_in_parts["visitor_id"]
    # Erasing again writes a receipt of its own (another id), in parts too.
    assert api.call("DELETE", f"/v1/visitors/{v}", token=tenant["admin_token"]).status_code == 202
    first, _, other_first, other_second = audit_events(erased_in_parts["t"], "visitor.erasure_receipt")
    assert first["details"]["digest"]["receipt_id"] != other_first["details"]["digest"]["receipt_id"]
    code, out = proof(api, tenant, tmp_path, capsys, first["details"], other_second["details"])
    assert code == 1 and "the parts given are of 2 receipts" in out, out
    # The route answers the latest, whole.
    answer = api.call("GET", f"/v1/visitors/{v}/erasure-receipt", token=tenant["admin_token"]).json_body
    assert answer == {**other_first["details"], "further_parts": [other_second["details"]]}


def test_a_visitor_with_2000_conversations_gets_a_receipt_in_parts_each_within_an_item(api: Api, tenant: dict):
    """The real budget. The conversations are the visitor's one real conversation cloned as retention
    leaves them (closed, shredded: the erasure only names them), so the run stays a few seconds."""
    t = tenant["tenant_id"]
    vera, _, conversation_id = chat(api, tenant)
    vera.send(action="conversation.close", conversation_id=conversation_id)
    ddb = boto3.client("dynamodb")
    real = ddb.get_item(TableName=CONVERSATIONS, Key=raw_key(tenant_id=t, conversation_id=conversation_id))["Item"]
    v = real["visitor_id"]["S"]
    clones = [{**real, "conversation_id": {"S": new_id("c")}, "shredded_at": {"S": "2026-01-01T00:00:00.000000+0000"}}
              for _ in range(1_999)]
    for start in range(0, len(clones), 25):
        ddb.batch_write_item(RequestItems={CONVERSATIONS: [{"PutRequest": {"Item": {
            k: val for k, val in clone.items() if k != "data_keys"}}} for clone in clones[start:start + 25]]})
    assert api.call("DELETE", f"/v1/visitors/{v}", token=tenant["admin_token"]).status_code == 202
    events = audit_events(t, "visitor.erasure_receipt")
    assert [e["details"]["digest"]["part"] for e in events] == [1, 2]
    assert sum(len(e["details"]["digest"]["conversations"]) for e in events) == 2_000
    assert all(len(canonical(e["details"])) <= erasure_receipt.PART_BYTES for e in events)
    answer = api.call("GET", f"/v1/visitors/{v}/erasure-receipt", token=tenant["admin_token"]).json_body
    assert [answer["digest"]["part"]] + [p["digest"]["part"] for p in answer["further_parts"]] == [1, 2]


def test_a_receipt_signed_before_receipts_came_in_parts_still_proves(api: Api, tenant: dict, clock,
                                                                     tmp_path: Path, capsys):
    erased = erase_visitor(api, tenant, clock)
    [event] = audit_events(erased["t"], "visitor.erasure_receipt")
    earlier = {k: v for k, v in event["details"]["digest"].items()
               if k not in ("receipt_id", "part", "parts", "conversation_count")}
    code, out = proof(api, tenant, tmp_path, capsys,
                      {**event["details"], "digest": earlier, "signature": audit_signer().sign(earlier)})
    assert code == 0 and "signed erasure_receipt verified with" in out, out
