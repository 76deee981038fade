"""The audit trail: events for every security-relevant act, one hash chain per tenant, the
audit-verify job and its tamper detection, exports and their offline verification."""
from __future__ import annotations

import base64
import gzip
import hashlib
import json
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import boto3
import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec

from chalicelib.audit.chain import GENESIS, ChainState, canonical, event_hash
from chalicelib.audit.trail import record_event
from chalicelib.clock import iso
from chalicelib.storage.audit import AuditDigestModel
from devstack.harness import PASSWORD, Api, agent, run_job, visitor
from tests.functional.audit_exports import ROOT, export, offline_verify, public_key, write_public_key
from tests.helpers import audit_events

EVENTS = "switchboard-test-audit-events"


def actions(tenant_id: str) -> list[str]:
    return [event["action"] for event in audit_events(tenant_id)]


def assert_chain_holds(tenant_id: str) -> None:
    state = ChainState(1, GENESIS)
    for event in audit_events(tenant_id):
        state.accept(event)  # raises ChainBroken naming the first seq that does not hold


# --- Events ----------------------------------------------------------------------------------
def test_every_security_relevant_act_is_on_the_chain_without_secrets(api: Api, tenant: dict, clock):
    t, admin = tenant["tenant_id"], tenant["admin_token"]
    assert actions(t) == ["tenant.created", "auth.login"]
    api.call("POST", "/v1/auth/login", {"tenant_id": t, "email": "admin@acme.com", "password": "wrong password!"})
    sam = api.add_agent(admin, "sam@acme.com", teams=["billing"])
    api.call("PATCH", f"/v1/agents/{sam['agent_id']}", {"password": "a brand new secret", "tier": 2}, token=admin)
    key = api.call("POST", "/v1/api-keys", {"name": "ci", "role": "agent"}, token=admin).json_body
    api.call("DELETE", f"/v1/api-keys/{key['key_id']}", token=admin)
    api.call("PUT", "/v1/settings", {"bot_enabled": False, "retention_days": 30}, token=admin)
    api.call("POST", "/v1/keys/rotate", token=admin)
    kim = agent(api, tenant, "kim@acme.com")
    kim.send(action="presence.set", status="online")
    vera = visitor(api, tenant)
    vera.send(action="message.send", client_msg_id="v1", text="my password is hunter2")
    conversation_id = vera.of_type("ack")[0]["conversation_id"]
    kim.send(action="conversation.escalate", conversation_id=conversation_id)
    api.call("POST", "/v1/keys/rotate", token=admin)  # changes nothing of the conversation
    api.call("GET", f"/v1/conversations/{conversation_id}/messages", token=admin)
    api.call("GET", f"/v1/conversations/{conversation_id}/transcript", token=admin)
    visitor_id = api.call("GET", f"/v1/conversations/{conversation_id}", token=admin).json_body["visitor_id"]
    api.call("DELETE", f"/v1/visitors/{visitor_id}", token=admin)
    api.call("DELETE", f"/v1/agents/{sam['agent_id']}", token=admin)
    clock.advance(16 * 60)  # failed logins are written once their 15-minute window is over, counted
    run_job("audit-login-failures")

    recorded = audit_events(t)
    assert [e["action"] for e in recorded] == [
        "tenant.created", "auth.login", "agent.created", "agent.updated", "api_key.created",
        "api_key.revoked", "settings.updated", "key.rotated", "agent.created", "auth.login",
        "conversation.assigned", "conversation.escalated", "key.rotated", "transcript.read", "transcript.exported",
        "conversation.closed", "visitor.erased", "visitor.erasure_receipt", "agent.deactivated",
        "auth.login_failed"]
    by_action = {e["action"]: e for e in recorded}
    assert by_action["agent.updated"]["details"] == {"fields": ["password", "tier"]}
    assert by_action["settings.updated"]["details"] == {"fields": ["bot_enabled", "retention_days"]}
    assert by_action["auth.login_failed"]["target"] == recorded[0]["details"]["admin_agent_id"]
    assert by_action["conversation.escalated"]["details"]["to_team"] == "tier:2"
    assert [e["seq"] for e in recorded] == list(range(1, len(recorded) + 1))
    assert_chain_holds(t)
    text = json.dumps(recorded)
    for secret in ("wrong password!", "a brand new secret", key["api_key"], key["api_key"].rsplit(".", 1)[1],
                   "hunter2", PASSWORD):
        assert secret not in text


def test_a_failed_login_on_an_unknown_tenant_grows_no_chain(api: Api, tenant: dict):
    before = audit_events(tenant["tenant_id"])
    api.call("POST", "/v1/auth/login", {"tenant_id": "t_nobody", "email": "a@acme.com", "password": "whatever12"})
    assert audit_events("t_nobody") == [] and audit_events(tenant["tenant_id"]) == before


def test_concurrent_appends_never_fork_or_skip(tenant: dict):
    t = tenant["tenant_id"]
    start = len(audit_events(t))

    def append(n: int) -> None:
        record_event(t, {"kind": "system", "id": "hammer"}, "test.hammer", f"n{n}", {"n": n})

    with ThreadPoolExecutor(8) as pool:
        list(pool.map(append, range(120)))
    recorded = audit_events(t)
    assert len(recorded) == start + 120 and sorted(e["target"] for e in recorded[start:]) == sorted(
        f"n{n}" for n in range(120))
    assert_chain_holds(t)
    assert run_job("audit-verify")["broken"] == []


# --- audit-verify ----------------------------------------------------------------------------
def test_audit_verify_signs_digests_that_chain(api: Api, tenant: dict):
    t = tenant["tenant_id"]
    summary = run_job("audit-verify")
    assert summary["tenants"] == 1 and summary["digests_signed"] == 1 and summary["broken"] == []
    assert run_job("audit-verify")["digests_signed"] == 0  # nothing new, nothing signed
    api.call("PUT", "/v1/settings", {"bot_enabled": False}, token=tenant["admin_token"])
    assert run_job("audit-verify")["events_verified"] == 1
    digests = api.call("GET", "/v1/audit/digests", token=tenant["admin_token"]).json_body["items"]
    assert [d["seq"] for d in digests] == [2, 1]
    newest, first = digests
    assert newest["digest"]["kind"] == first["digest"]["kind"] == "checkpoint"
    assert first["digest"]["prev_digest_hash"] == first["digest"]["first_prev_hash"] == GENESIS
    assert newest["digest"]["first_prev_hash"] == first["digest"]["last_hash"]
    assert newest["digest"]["prev_digest_hash"] == hashlib.sha256(canonical(first["digest"])).hexdigest()
    assert (newest["digest"]["first_seq"], newest["digest"]["last_seq"]) == (first["digest"]["last_seq"] + 1,
                                                                             len(audit_events(t)))
    key = public_key(api, tenant)
    for digest in digests:  # verifies with the published key alone
        key.verify(base64.b64decode(digest["signature"]), canonical(digest["digest"]), ec.ECDSA(hashes.SHA256()))


def tamper(tenant_id: str, how: str, seq: int) -> None:
    ddb = boto3.client("dynamodb")

    def key(n: int) -> dict:
        return {"tenant_id": {"S": tenant_id}, "seq": {"N": str(n)}}

    item = ddb.get_item(TableName=EVENTS, Key=key(seq)).get("Item")
    if how == "edit":
        ddb.update_item(TableName=EVENTS, Key=key(seq), UpdateExpression="SET details = :d",
                        ExpressionAttributeValues={":d": {"S": json.dumps({"fields": ["nothing to see"]})}})
    elif how == "delete":
        ddb.delete_item(TableName=EVENTS, Key=key(seq))
    elif how == "reorder":
        after = ddb.get_item(TableName=EVENTS, Key=key(seq + 1))["Item"]
        ddb.put_item(TableName=EVENTS, Item={**after, "seq": {"N": str(seq)}})
        ddb.put_item(TableName=EVENTS, Item={**item, "seq": {"N": str(seq + 1)}})
    elif how == "insert":  # a well-formed event appended behind the chain head's back (no ts_seq needed)
        before = ddb.get_item(TableName=EVENTS, Key=key(seq - 1))["Item"]
        forged = {"seq": seq, "ts": before["ts"]["S"], "actor": {"kind": "agent", "id": "a_forged"},
                  "action": "agent.created", "target": "a_forged", "details": {}, "prev_hash": before["hash"]["S"]}
        forged["hash"] = event_hash(forged)
        ddb.put_item(TableName=EVENTS, Item={
            "tenant_id": {"S": tenant_id}, "seq": {"N": str(seq)}, "ts": {"S": forged["ts"]},
            "actor": {"S": json.dumps(forged["actor"])}, "action": {"S": forged["action"]},
            "target": {"S": forged["target"]}, "details": {"S": "{}"}, "prev_hash": {"S": forged["prev_hash"]},
            "hash": {"S": forged["hash"]}})


@pytest.mark.parametrize("how, at", [("edit", 5), ("delete", 5), ("reorder", 5), ("delete", "last"),
                                     ("edit", "last"), ("insert", "next")])
def test_tampering_is_found_at_exactly_the_first_broken_seq(api: Api, tenant: dict, how: str, at, caplog):
    t = tenant["tenant_id"]
    for n in range(8):
        record_event(t, {"kind": "system", "id": "test"}, "test.event", f"n{n}")
    last = len(audit_events(t))
    seq = {"last": last, "next": last + 1}.get(at, at)
    tamper(t, how, seq)
    with caplog.at_level("ERROR", logger="switchboard.audit"):
        summary = run_job("audit-verify")
    [broken] = summary["broken"]
    assert (broken["tenant_id"], broken["seq"]) == (t, seq)
    assert summary["digests_signed"] == 0
    assert '"alarm": "audit_chain_broken"' in caplog.text
    [alarm] = api.call("GET", "/v1/audit/alarms", token=tenant["admin_token"]).json_body["items"]
    assert alarm["broken_seq"] == seq and alarm["checkpoint_seq"] == 0
    run_job("audit-verify")  # a second run records no second alarm for the same break
    assert len(api.call("GET", "/v1/audit/alarms", token=tenant["admin_token"]).json_body["items"]) == 1


def test_tampering_before_a_checkpoint_is_found_too(api: Api, tenant: dict):
    t = tenant["tenant_id"]
    run_job("audit-verify")
    checkpoint = AuditDigestModel.get(t, 1).digest["last_seq"]
    tamper(t, "edit", checkpoint)
    api.call("PUT", "/v1/settings", {"bot_enabled": False}, token=tenant["admin_token"])
    [broken] = run_job("audit-verify")["broken"]
    assert broken["seq"] == checkpoint and "signed checkpoint" in broken["reason"]


def test_a_forged_checkpoint_is_refused(api: Api, tenant: dict):
    t = tenant["tenant_id"]
    run_job("audit-verify")
    boto3.client("dynamodb").update_item(
        TableName="switchboard-test-audit-digests", Key={"tenant_id": {"S": t}, "seq": {"N": "1"}},
        UpdateExpression="SET signature = :s",
        ExpressionAttributeValues={":s": {"S": base64.b64encode(b"x" * 70).decode()}})
    api.call("PUT", "/v1/settings", {"bot_enabled": False}, token=tenant["admin_token"])
    [broken] = run_job("audit-verify")["broken"]
    assert "signature" in broken["reason"]


# --- Exports ---------------------------------------------------------------------------------
def contract_verify(path: Path, key: ec.EllipticCurvePublicKey) -> dict:
    """A verifier written from ../shared/contract.md alone, independent of chalicelib."""
    lines = [json.loads(line) for line in gzip.decompress(path.read_bytes()).decode().splitlines()]
    header, events, trailer = lines[0], lines[1:-1], lines[-1]
    assert header["format"] == "switchboard.audit.v1"
    prev = events[0]["prev_hash"] if events else None
    if events and events[0]["seq"] == 1:
        assert prev == "0" * 64
    for n, event in enumerate(events):
        assert event["seq"] == events[0]["seq"] + n and event["prev_hash"] == prev
        body = {k: v for k, v in event.items() if k != "hash"}
        digest = hashlib.sha256(bytes.fromhex(prev) + json.dumps(body, sort_keys=True, separators=(",", ":"),
                                                                 ensure_ascii=False).encode()).hexdigest()
        assert digest == event["hash"]
        prev = event["hash"]
    d = trailer["digest"]
    assert d["kind"] == "export" and d["event_count"] == len(events) and d["last_hash"] == prev
    assert (d["first_seq"], d["first_prev_hash"], d["last_seq"]) == (events[0]["seq"], events[0]["prev_hash"],
                                                                     events[-1]["seq"])
    assert all(header[name] == d[name] for name in ("tenant_id", "from", "to", "generated_at"))
    key.verify(base64.b64decode(trailer["signature"]),
               json.dumps(d, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode(),
               ec.ECDSA(hashes.SHA256()))
    return {"header": header, "events": events, "trailer": trailer}


def test_an_export_verifies_offline_and_its_summary_is_the_signed_digest(api: Api, tenant: dict, tmp_path: Path):
    """The doctored files it must refuse are in test_audit_doctored.py."""
    for n in range(30):
        record_event(tenant["tenant_id"], {"kind": "system", "id": "test"}, "test.event", f"n{n}", {"n": n})
    ready, path = export(api, tenant, tmp_path, "2000-01-01T00:00:00Z", "2100-01-01T00:00:00Z", "all")
    key_path = write_public_key(api, tenant, tmp_path)
    parsed = contract_verify(path, public_key(api, tenant))
    assert parsed["events"][0]["seq"] == 1 and ready["event_count"] == len(parsed["events"]) >= 33
    assert parsed["header"]["tenant_id"] == tenant["tenant_id"]
    ok = offline_verify(path, "--public-key", key_path, "--tenant", tenant["tenant_id"])
    assert ok.returncode == 0, ok.stdout + ok.stderr
    d, key_id = parsed["trailer"]["digest"], parsed["trailer"]["key_id"]
    assert ok.stdout.splitlines() == [
        f"OK {path}: every event, the chain and the signature hold",
        f"  tenant        {tenant['tenant_id']}",
        "  range         2000-01-01T00:00:00Z (inclusive) to 2100-01-01T00:00:00Z (exclusive)",
        f"  events        {ready['event_count']}, seq 1..{ready['event_count']}",
        f"  links to      {GENESIS} (the chain's start)",
        f"  last hash     {d['last_hash']}",
        f"  generated at  {d['generated_at']}",
        f"  signed by     key {key_id} (ECDSA_P256_SHA256), verified with {key_path}"]
    assert "export_requested" in actions(tenant["tenant_id"])[-2] and actions(tenant["tenant_id"])[-1] == (
        "audit.export_downloaded")
    unusable = offline_verify(path, "--public-key", tmp_path / "missing.pem")
    assert unusable.returncode == 2 and unusable.stdout == "" and "missing.pem" in unusable.stderr


def test_consecutive_range_exports_join(api: Api, tenant: dict, tmp_path: Path, clock):
    t = tenant["tenant_id"]
    record_event(t, {"kind": "system", "id": "test"}, "test.early", "x")
    clock.advance(3600)
    middle = iso(clock.utcnow())
    clock.advance(3600)
    record_event(t, {"kind": "system", "id": "test"}, "test.late", "y")
    clock.advance(60)
    api_token = api.login(t, "admin@acme.com")
    tenant = {**tenant, "admin_token": api_token}
    _, first = export(api, tenant, tmp_path, "2000-01-01T00:00:00Z", middle, "first")
    _, second = export(api, tenant, tmp_path, middle, "2100-01-01T00:00:00Z", "second")
    key_path = write_public_key(api, tenant, tmp_path)
    joined = offline_verify(second, "--public-key", key_path, "--previous", first)
    assert joined.returncode == 0, joined.stdout
    assert offline_verify(first, "--public-key", key_path, "--previous", second).returncode == 1


def test_export_and_event_routes_are_for_compliance_and_admin_and_validate(api: Api, tenant: dict):
    admin = tenant["admin_token"]
    sam_token = api.login(tenant["tenant_id"], api.add_agent(admin, "sam@acme.com")["email"])
    cora_token = api.login(tenant["tenant_id"], api.add_agent(admin, "cora@acme.com", role="compliance")["email"])
    for path in ("/v1/audit/events", "/v1/audit/public-keys", "/v1/audit/alarms", "/v1/audit/digests"):
        assert api.call("GET", path, token=sam_token).status_code == 403
        assert api.call("GET", path, token=cora_token).status_code == 200
    assert api.call("POST", "/v1/audit/exports", {"from": "2026-01-01T00:00:00Z", "to": "2026-02-01T00:00:00Z"},
                    token=sam_token).status_code == 403
    for body, field in (({"from": "2026-02-01T00:00:00Z", "to": "2026-01-01T00:00:00Z"}, "to"),
                        ({"from": "last week", "to": "2026-01-01T00:00:00Z"}, "from"),
                        ({"from": "2026-01-01T00:00:00", "to": "2026-02-01T00:00:00Z"}, "from")):
        response = api.call("POST", "/v1/audit/exports", body, token=cora_token)
        assert response.status_code == 400 and response.json_body["error"]["message"].startswith(field)
    assert api.call("GET", "/v1/audit/exports/x_nothing", token=cora_token).status_code == 404
    other = api.signup(name="Other", email="boss@other.com")
    other_token = api.login(other["tenant_id"], "boss@other.com")
    export_id = api.call("POST", "/v1/audit/exports", {"from": "2026-01-01T00:00:00Z", "to": "2026-02-01T00:00:00Z"},
                         token=cora_token).json_body["export_id"]
    assert api.call("GET", f"/v1/audit/exports/{export_id}", token=other_token).status_code == 404


def test_events_page_by_time_range(api: Api, tenant: dict, clock):
    t = tenant["tenant_id"]
    for n in range(150):
        record_event(t, {"kind": "system", "id": "test"}, "test.event", f"n{n}")
    clock.advance(7200)
    record_event(t, {"kind": "system", "id": "test"}, "test.later", "later")
    token = api.login(t, "admin@acme.com")
    everything, cursor = [], None
    while True:
        page = api.call("GET", "/v1/audit/events" + (f"?cursor={cursor}" if cursor else ""), token=token).json_body
        everything += page["items"]
        cursor = page["next_cursor"]
        if not cursor:
            break
    assert [e["seq"] for e in everything] == list(range(1, len(audit_events(t)) + 1))
    later = everything[-2]["ts"]  # the login just now is the last event
    recent = api.call("GET", f"/v1/audit/events?from={later}", token=token).json_body["items"]
    assert [e["action"] for e in recent] == ["test.later", "auth.login"]
    early = api.call("GET", f"/v1/audit/events?to={later}", token=token).json_body
    assert early["items"][0]["seq"] == 1 and all(e["ts"] < later for e in early["items"])


def test_an_export_that_cannot_be_queued_is_marked_failed_not_left_pending(api: Api, tenant: dict):
    sqs = boto3.client("sqs")
    sqs.delete_queue(QueueUrl=sqs.get_queue_url(QueueName="switchboard-test-audit-exports")["QueueUrl"])
    response = api.call("POST", "/v1/audit/exports", {"from": "2026-01-01T00:00:00Z", "to": "2026-02-01T00:00:00Z"},
                        token=tenant["admin_token"])
    assert response.status_code == 500 and response.json_body["error"]["code"] == "internal_error"
    [export] = boto3.client("dynamodb").scan(TableName="switchboard-test-audit-exports")["Items"]
    assert export["status"]["S"] == "failed"


def test_the_offline_verifier_needs_nothing_but_cryptography():
    probe = ("import sys, chalicelib.audit.verify; "
             "print(sorted({m.split('.')[0] for m in sys.modules} & {'boto3', 'botocore', 'pynamodb', 'pydantic', "
             "'chalice', 'jwt', 'yaml', 'requests'}))")
    loaded = subprocess.run([sys.executable, "-c", probe], cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert loaded.returncode == 0 and loaded.stdout.strip() == "[]", loaded.stdout + loaded.stderr
