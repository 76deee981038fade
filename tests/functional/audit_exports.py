"""Audit exports as a compliance user gets them: requested over REST, written by the queue consumer,
downloaded from the time-limited link; and the offline verifier run as an auditor runs it."""
from __future__ import annotations

import hashlib
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from urllib.parse import urlparse

import boto3
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

import app as app_module
from devstack.harness import Api
from devstack.queues import consumer_named, deliver_once

ROOT = Path(__file__).resolve().parents[2]


def run_queued_exports() -> int:
    consumer = consumer_named(app_module.app, app_module, "audit_export")
    return deliver_once(consumer, boto3.client("sqs"))


def public_key(api: Api, tenant: dict) -> ec.EllipticCurvePublicKey:
    [key] = api.call("GET", "/v1/audit/public-keys", token=tenant["admin_token"]).json_body["keys"]
    assert key["algorithm"] == "ECDSA_P256_SHA256"
    loaded = serialization.load_pem_public_key(key["public_key_pem"].encode())
    assert isinstance(loaded, ec.EllipticCurvePublicKey) and loaded.curve.name == "secp256r1"
    return loaded


def export(api: Api, tenant: dict, tmp_path: Path, range_from: str, range_to: str, name: str) -> tuple[dict, Path]:
    accepted = api.call("POST", "/v1/audit/exports", {"from": range_from, "to": range_to}, token=tenant["admin_token"])
    assert accepted.status_code == 202, accepted.body
    export_id = accepted.json_body["export_id"]
    pending = api.call("GET", f"/v1/audit/exports/{export_id}", token=tenant["admin_token"]).json_body
    assert pending["status"] == "pending" and pending["url"] is None
    assert run_queued_exports() == 2  # one chunk of events, then completing the file
    ready = api.call("GET", f"/v1/audit/exports/{export_id}", token=tenant["admin_token"]).json_body
    assert ready["status"] == "ready" and ready["url"] and ready["chain_intact"] is True
    url = urlparse(ready["url"])
    assert "Expires=" in url.query or "X-Amz-Expires=" in url.query  # time-limited
    bucket = url.hostname.split(".")[0]
    body = boto3.client("s3").get_object(Bucket=bucket, Key=url.path.lstrip("/"))["Body"].read()
    assert hashlib.sha256(body).hexdigest() == ready["sha256"] and len(body) == ready["size_bytes"]
    path = tmp_path / f"{name}.jsonl.gz"
    path.write_bytes(body)
    return ready, path


def rewrite_and_export(api: Api, tenant: dict, tmp: Path, seq: int, doctor: Callable[[dict], None], name: str,
                       range_from: str = "2000-01-01T00:00:00Z") -> Path:
    """Someone with write access to the table edits event `seq`'s details and rehashes the chain after
    it, head included: the chain holds again, and the server signs an export of it."""
    from chalicelib.audit.chain import event_hash
    from chalicelib.audit.trail import chain_head
    from chalicelib.storage.audit import AuditChainModel, AuditEventModel
    from tests.helpers import audit_events

    t = tenant["tenant_id"]
    events = audit_events(t)
    prev = events[seq - 2]["hash"]
    for event in events[seq - 1:]:
        if event["seq"] == seq:
            doctor(event["details"])
        event["prev_hash"] = prev
        event["hash"] = prev = event_hash(event)
        AuditEventModel.of(t, event).save()
    head = chain_head(t)
    AuditChainModel(t, last_seq=int(head.last_seq), last_hash=prev, last_ts=head.last_ts).save()
    _, path = export(api, tenant, tmp, range_from, "2100-01-01T00:00:00Z", name)
    return path


def write_public_key(api: Api, tenant: dict, tmp_path: Path) -> Path:
    pem = api.call("GET", "/v1/audit/public-keys", token=tenant["admin_token"]).json_body["keys"][0]["public_key_pem"]
    path = tmp_path / "audit.pem"
    path.write_text(pem)
    return path


def offline_verify(*args: Path | str) -> subprocess.CompletedProcess:
    # Run as an auditor would: a fresh interpreter, nothing but the module and cryptography.
    return subprocess.run([sys.executable, "-m", "chalicelib.audit.verify", *map(str, args)], cwd=ROOT,
                          capture_output=True, text=True, timeout=60)
