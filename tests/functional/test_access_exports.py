"""The right of access: a visitor's data as one signed bundle, requested over REST, built by the audit
export queue's consumer, sealed in S3, downloaded through our route, verified offline as an auditor would."""
from __future__ import annotations

import base64
import hashlib
import io
import json
import subprocess
import sys
import zipfile
from pathlib import Path

import boto3
import pytest
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec

from chalicelib.audit.chain import canonical
from chalicelib.transcripts.envelope import MAGIC
from chalicelib.visitors import access_bundle
from devstack.harness import Api, agent, run_job, visitor
from tests.functional.audit_exports import run_queued_exports, write_public_key
from tests.functional.test_audit_export_chunks import deliver, take_message
from tests.functional.test_surveys_and_reports import answer, closed_chat
from tests.helpers import audit_events, error_of, signed_up

ROOT = Path(__file__).resolve().parents[2]
BUCKET = "switchboard-test-exports-123456789012"
SECRET = "my order number is 4711-SECRET"


def compliance_token(api: Api, tenant: dict) -> str:
    api.add_agent(tenant["admin_token"], "carla@acme.com", role="compliance")
    return api.login(tenant["tenant_id"], "carla@acme.com")


def served_visitor(api: Api, tenant: dict, clock) -> tuple[str, str]:
    """A visitor who chatted (SECRET among their words), was tagged and noted, and answered the survey."""
    sam = agent(api, tenant, "sam@acme.com")
    sam.send(action="presence.set", status="online")
    vera = visitor(api, tenant)
    vera.send(action="message.send", client_msg_id="v1", text="hello")
    conversation_id = vera.of_type("ack")[0]["conversation_id"]
    sam.send(action="message.send", conversation_id=conversation_id, client_msg_id="s1", text="hi!")
    vera.send(action="message.send", conversation_id=conversation_id, client_msg_id="v2", text=SECRET)
    sam.send(action="conversation.close", conversation_id=conversation_id, resolution="resolved")
    clock.advance(600)
    run_job("send-surveys")
    [frame] = vera.of_type("survey.request")
    assert answer(api, frame["survey_token"], rating=4, comment="quick and kind").status_code == 200
    visitor_id = vera_id(api, tenant, conversation_id)
    patched = api.call("PATCH", f"/v1/visitors/{visitor_id}", {"tags": ["vip"], "notes": "prefers email"},
                       token=tenant["admin_token"])
    assert patched.status_code == 200, patched.body
    return visitor_id, conversation_id


def vera_id(api: Api, tenant: dict, conversation_id: str) -> str:
    return api.call("GET", f"/v1/conversations/{conversation_id}", token=tenant["admin_token"]).json_body["visitor_id"]


def exported(api: Api, token: str, visitor_id: str) -> tuple[dict, bytes]:
    """Request, let the consumer build it, poll, download: (the ready status, the zip)."""
    accepted = api.call("POST", f"/v1/visitors/{visitor_id}/access-exports", token=token)
    assert accepted.status_code == 202, accepted.body
    export_id = accepted.json_body["export_id"]
    status_path = f"/v1/visitors/{visitor_id}/access-exports/{export_id}"
    pending = api.call("GET", status_path, token=token).json_body
    assert pending["status"] == "pending" and pending["url"] is None and pending["sha256"] is None
    early = api.call("GET", f"{status_path}/bundle", token=token, headers={"Accept": "application/zip"})
    assert early.status_code == 409 and error_of(early)["code"] == "export_not_ready"
    assert run_queued_exports() == 1  # one step: the bundle is bounded
    ready = api.call("GET", status_path, token=token).json_body
    assert ready["status"] == "ready", ready
    assert ready["url"].endswith(f"{status_path}/bundle")
    return ready, download(api, token, ready["url"])


def download(api: Api, token: str, url: str) -> bytes:
    # The url is the public one (SWITCHBOARD_PUBLIC_URL): the test client takes the path.
    response = api.call("GET", url[url.index("/v1/"):], token=token, headers={"Accept": "application/zip"})
    assert response.status_code == 200, response.body
    assert response.headers["Content-Type"] == "application/zip"
    return response.body


def verify(bundle: Path, key: Path, *extra: str) -> subprocess.CompletedProcess:
    # Run as an auditor would: a fresh interpreter, nothing but the module and cryptography.
    return subprocess.run([sys.executable, "-m", "chalicelib.audit.verify_access", str(bundle), "--public-key",
                           str(key), *extra], cwd=ROOT, capture_output=True, text=True, timeout=60)


def rezip(source: bytes, path: Path, *, drop: str = "", replace: dict[str, bytes] | None = None) -> Path:
    with zipfile.ZipFile(io.BytesIO(source)) as original, zipfile.ZipFile(path, "w") as doctored:
        for name in original.namelist():
            if name != drop:
                doctored.writestr(name, (replace or {}).get(name, original.read(name)))
        for name, content in (replace or {}).items():
            if name not in original.namelist():
                doctored.writestr(name, content)
    return path


def test_the_bundle_holds_everything_about_the_visitor_and_verifies_offline(api: Api, tenant: dict, clock,
                                                                            tmp_path: Path):
    visitor_id, conversation_id = served_visitor(api, tenant, clock)
    token = compliance_token(api, tenant)
    ready, bundle = exported(api, token, visitor_id)
    assert hashlib.sha256(bundle).hexdigest() == ready["sha256"] and len(bundle) == ready["size_bytes"]
    files = zipfile.ZipFile(io.BytesIO(bundle))
    assert sorted(files.namelist()) == sorted(["README.txt", "profile.json", f"conversations/{conversation_id}.json",
                                               "surveys.json", "audit-events.jsonl", "attachments.json",
                                               "manifest.json"])
    profile = json.loads(files.read("profile.json"))
    assert profile["visitor_id"] == visitor_id and profile["tags"] == ["vip"] and profile["notes"] == "prefers email"
    assert profile["possible_match"] is None
    conversation = json.loads(files.read(f"conversations/{conversation_id}.json"))
    assert conversation["conversation"]["conversation_id"] == conversation_id
    assert [m["text"] for m in conversation["messages"]] == ["hello", "hi!", SECRET]  # decrypted
    [survey] = json.loads(files.read("surveys.json"))["surveys"]
    assert survey["rating"] == 4 and survey["comment"] == "quick and kind"
    events = [json.loads(line) for line in files.read("audit-events.jsonl").splitlines()]
    assert {e["target"] for e in events} <= {visitor_id, conversation_id}
    actions = [e["action"] for e in events]
    assert "visitor.updated" in actions and "visitor.access_export_requested" in actions
    assert events == sorted(events, key=lambda e: e["seq"])
    # Exactly the chain's events about them: the same as a read of the whole trail would find.
    assert events == [e for e in audit_events(tenant["tenant_id"]) if e["target"] in (visitor_id, conversation_id)
                      and e["seq"] <= events[-1]["seq"]]
    assert json.loads(files.read("attachments.json"))["attachments"] == []
    assert visitor_id in files.read("README.txt").decode()

    path = tmp_path / "bundle.zip"
    path.write_bytes(bundle)
    key = write_public_key(api, tenant, tmp_path)
    checked = verify(path, key, "--tenant", tenant["tenant_id"], "--visitor", visitor_id)
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert checked.stdout.startswith(f"OK {path}") and visitor_id in checked.stdout

    # The request and the download are on the trail, with the bytes served.
    [requested] = audit_events(tenant["tenant_id"], "visitor.access_export_requested")
    [downloaded] = audit_events(tenant["tenant_id"], "visitor.access_export_downloaded")
    assert requested["target"] == downloaded["target"] == visitor_id
    assert downloaded["details"] == {"export_id": ready["export_id"], "sha256": ready["sha256"]}


def test_s3_holds_the_bundle_only_sealed(api: Api, tenant: dict, clock):
    visitor_id, _ = served_visitor(api, tenant, clock)
    exported(api, tenant["admin_token"], visitor_id)
    s3 = boto3.client("s3")
    [stored] = s3.list_objects_v2(Bucket=BUCKET, Prefix="access/")["Contents"]
    body = s3.get_object(Bucket=BUCKET, Key=stored["Key"])["Body"].read()
    assert body.startswith(MAGIC) and not zipfile.is_zipfile(io.BytesIO(body))
    for plaintext in (SECRET, "quick and kind", "prefers email"):
        assert plaintext.encode() not in body
    head = s3.head_object(Bucket=BUCKET, Key=stored["Key"])
    assert head["ObjectLockMode"] == "COMPLIANCE"  # its own 7 days, not the bucket's year
    assert (head["ObjectLockRetainUntilDate"] - stored["LastModified"]).days == 7


def test_doctored_bundles_are_refused(api: Api, tenant: dict, clock, tmp_path: Path):
    visitor_id, conversation_id = served_visitor(api, tenant, clock)
    _, bundle = exported(api, tenant["admin_token"], visitor_id)
    key = write_public_key(api, tenant, tmp_path)
    transcript = f"conversations/{conversation_id}.json"
    original = zipfile.ZipFile(io.BytesIO(bundle)).read(transcript)

    changed = rezip(bundle, tmp_path / "changed.zip", replace={transcript: original.replace(b"4711", b"4712")})
    result = verify(changed, key)
    assert result.returncode == 1 and f"{transcript} does not match the signed manifest" in result.stdout

    extra = rezip(bundle, tmp_path / "extra.zip", replace={"conversations/c_planted.json": b"{}"})
    result = verify(extra, key)
    assert result.returncode == 1 and "conversations/c_planted.json is in the bundle but not" in result.stdout

    removed = rezip(bundle, tmp_path / "removed.zip", drop="surveys.json")
    result = verify(removed, key)
    assert result.returncode == 1 and "surveys.json is in the signed manifest but not in the bundle" in result.stdout

    # Changed, then the manifest re-signed to match by a key that is not the service's.
    manifest = json.loads(zipfile.ZipFile(io.BytesIO(bundle)).read("manifest.json"))
    doctored = original.replace(b"4711", b"4712")
    for entry in manifest["digest"]["files"]:
        if entry["name"] == transcript:
            entry["sha256"], entry["size"] = hashlib.sha256(doctored).hexdigest(), len(doctored)
    other_key = ec.generate_private_key(ec.SECP256R1())
    manifest["signature"] = base64.b64encode(
        other_key.sign(canonical(manifest["digest"]), ec.ECDSA(hashes.SHA256()))).decode()
    resigned = rezip(bundle, tmp_path / "resigned.zip",
                     replace={transcript: doctored, "manifest.json": json.dumps(manifest).encode()})
    result = verify(resigned, key)
    assert result.returncode == 1 and "signature of manifest.json does not verify" in result.stdout
    other_pem = tmp_path / "other.pem"
    other_pem.write_bytes(other_key.public_key().public_bytes(serialization.Encoding.PEM,
                                                              serialization.PublicFormat.SubjectPublicKeyInfo))
    assert verify(resigned, other_pem).returncode == 0  # it holds only for the key that is not ours

    # Another visitor's bundle, genuine and signed, is not this visitor's; nor is its manifest.
    _, _, other_conversation = closed_chat(api, tenant, agent_email="kim@acme.com")
    other_id = vera_id(api, tenant, other_conversation)
    _, other_bundle = exported(api, tenant["admin_token"], other_id)
    theirs = tmp_path / "theirs.zip"
    theirs.write_bytes(other_bundle)
    result = verify(theirs, key, "--visitor", visitor_id)
    assert result.returncode == 1 and f"signed for visitor {other_id}, not {visitor_id}" in result.stdout
    swapped = rezip(bundle, tmp_path / "swapped.zip", replace={
        "manifest.json": zipfile.ZipFile(io.BytesIO(other_bundle)).read("manifest.json")})
    assert verify(swapped, key, "--visitor", visitor_id).returncode == 1

    assert verify(tmp_path / "missing.zip", key).returncode == 2
    assert verify(changed, tmp_path / "missing.pem").returncode == 2


def test_only_admins_and_compliance_and_only_the_tenants_own(api: Api, tenant: dict, clock):
    visitor_id, conversation_id = served_visitor(api, tenant, clock)
    ready, _ = exported(api, tenant["admin_token"], visitor_id)
    paths = [("POST", f"/v1/visitors/{visitor_id}/access-exports"),
             ("GET", f"/v1/visitors/{visitor_id}/access-exports/{ready['export_id']}"),
             ("GET", f"/v1/visitors/{visitor_id}/access-exports/{ready['export_id']}/bundle")]
    for role in ("agent", "supervisor"):
        api.add_agent(tenant["admin_token"], f"{role}@acme.com", role=role)
        token = api.login(tenant["tenant_id"], f"{role}@acme.com")
        for method, path in paths:
            assert api.call(method, path, token=token).status_code == 403, (role, path)
    other = signed_up(api)
    for method, path in paths:
        response = api.call(method, path, token=other["admin_token"])
        assert response.status_code == 404 and error_of(response)["code"] == "not_found", path
    # Another visitor's path, or the audit exports' route, never shows it either.
    assert api.call("GET", f"/v1/visitors/v_other/access-exports/{ready['export_id']}",
                    token=tenant["admin_token"]).status_code == 404
    assert api.call("GET", f"/v1/audit/exports/{ready['export_id']}", token=tenant["admin_token"]).status_code == 404
    # Only the one download of exported() happened, and only its request.
    assert len(audit_events(tenant["tenant_id"], "visitor.access_export_downloaded")) == 1
    assert len(audit_events(tenant["tenant_id"], "visitor.access_export_requested")) == 1


def test_an_erased_visitor_gets_the_tombstone_and_no_text(api: Api, tenant: dict, clock):
    visitor_id, conversation_id = served_visitor(api, tenant, clock)
    assert api.call("DELETE", f"/v1/visitors/{visitor_id}", token=tenant["admin_token"]).status_code == 202
    _, bundle = exported(api, tenant["admin_token"], visitor_id)
    files = zipfile.ZipFile(io.BytesIO(bundle))
    profile = json.loads(files.read("profile.json"))
    assert profile["erased_at"] and profile["name"] is None and profile["tags"] == [] and profile["notes"] == ""
    messages = json.loads(files.read(f"conversations/{conversation_id}.json"))["messages"]
    assert messages and all(m["text"] is None and m["redacted"] for m in messages)
    assert json.loads(files.read("surveys.json"))["surveys"][0]["comment"] is None
    assert "visitor.erased" in files.read("audit-events.jsonl").decode()
    assert "was erased on" in files.read("README.txt").decode()
    assert json.loads(files.read("manifest.json"))["digest"]["erased_at"] == profile["erased_at"]


def test_a_bundle_too_large_for_one_answer_fails_cleanly(api: Api, tenant: dict, clock, monkeypatch):
    visitor_id, _ = served_visitor(api, tenant, clock)
    monkeypatch.setattr(access_bundle, "MAX_BUNDLE_BYTES", 1024)
    accepted = api.call("POST", f"/v1/visitors/{visitor_id}/access-exports", token=tenant["admin_token"])
    export_id = accepted.json_body["export_id"]
    assert run_queued_exports() == 1
    status = api.call("GET", f"/v1/visitors/{visitor_id}/access-exports/{export_id}",
                      token=tenant["admin_token"]).json_body
    assert status["status"] == "failed" and status["error_code"] == "bundle_too_large" and status["url"] is None
    assert "/transcript" in status["error"]
    refused = api.call("GET", f"/v1/visitors/{visitor_id}/access-exports/{export_id}/bundle",
                       token=tenant["admin_token"])
    assert refused.status_code == 413 and error_of(refused)["code"] == "bundle_too_large"
    assert boto3.client("s3").list_objects_v2(Bucket=BUCKET, Prefix="access/").get("KeyCount") == 0


def test_the_bundle_expires_after_seven_days(api: Api, tenant: dict, clock):
    visitor_id, _ = served_visitor(api, tenant, clock)
    # An API key: a week outlives any session.
    key = api.call("POST", "/v1/api-keys", {"name": "dpo", "role": "compliance"}, token=tenant["admin_token"])
    ready, _ = exported(api, key.json_body["api_key"], visitor_id)
    clock.advance(7 * 24 * 3600 - 60)
    assert download(api, key.json_body["api_key"], ready["url"])
    clock.advance(61)
    gone = api.call("GET", ready["url"][ready["url"].index("/v1/"):], token=key.json_body["api_key"])
    assert gone.status_code == 410 and error_of(gone)["code"] == "access_export_expired"


@pytest.mark.parametrize("visitor_id", ["v_nobody"])
def test_an_unknown_visitor_is_not_found(api: Api, tenant: dict, visitor_id: str):
    response = api.call("POST", f"/v1/visitors/{visitor_id}/access-exports", token=tenant["admin_token"])
    assert response.status_code == 404


def test_a_message_delivered_twice_builds_one_bundle(api: Api, tenant: dict, clock):
    """SQS delivers at least once: the engine's claim and the pending check make the second a no-op."""
    visitor_id, _ = served_visitor(api, tenant, clock)
    accepted = api.call("POST", f"/v1/visitors/{visitor_id}/access-exports", token=tenant["admin_token"])
    body = take_message()
    deliver(body)
    status_path = f"/v1/visitors/{visitor_id}/access-exports/{accepted.json_body['export_id']}"
    first = api.call("GET", status_path, token=tenant["admin_token"]).json_body
    clock.advance(60)
    deliver(body)
    assert api.call("GET", status_path, token=tenant["admin_token"]).json_body == first
    versions = boto3.client("s3").list_object_versions(Bucket=BUCKET, Prefix="access/").get("Versions", [])
    assert first["status"] == "ready" and len(versions) == 1


def test_the_subject_index_holds_only_events_about_visitors_and_conversations(api: Api, tenant: dict, clock):
    """Sparse: logins, agent and settings changes cost the index nothing."""
    served_visitor(api, tenant, clock)
    items = boto3.client("dynamodb").scan(TableName="switchboard-test-audit-events")["Items"]
    about = {item["target"]["S"] for item in items if "subject_key" in item}
    others = {item["action"]["S"] for item in items if "subject_key" not in item}
    assert about and all(target.startswith(("v_", "c_")) for target in about)
    assert {"tenant.created", "agent.created", "auth.login"} <= others
    for item in items:
        if "subject_key" in item:
            assert item["subject_key"]["S"] == f"{item['tenant_id']['S']}#{item['target']['S']}"
