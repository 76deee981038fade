"""An audit export of any size: written in chunks, each a fresh invocation of the queue consumer
carrying its progress on the export's item, the file one multipart upload of whole gzip members.

Parts are 8 KiB here (8 MiB on AWS) and moto is held to the same floor for every part but the last,
so a chunk that ended anywhere but on a full part would fail to complete. Peak memory per invocation
is the bench's (bench/export.py, against moto server): in-process moto keeps its objects in this process.
"""
from __future__ import annotations

import gzip
import hashlib
import json
import zlib
from pathlib import Path
from typing import Any

import boto3
import pytest

import app as app_module
from chalicelib.audit import export_file
from chalicelib.audit.chain import event_hash
from chalicelib.storage.audit import AuditExportModel
from devstack.harness import Api
from devstack.queues import consumer_named
from tests.functional.audit_exports import offline_verify, write_public_key
from tests.helpers import audit_events, use_limits

BUCKET = "switchboard-test-exports-123456789012"
PART = 8 * 1024
EVERYTHING = {"from": "2000-01-01T00:00:00Z", "to": "2100-01-01T00:00:00Z"}


@pytest.fixture
def small_parts(monkeypatch):
    import moto.s3.models

    monkeypatch.setattr(export_file, "PART_BYTES", PART)
    monkeypatch.setattr(moto.s3.models, "S3_UPLOAD_PART_MIN_SIZE", PART)


def seed_chain(tenant_id: str, count: int) -> None:
    """count well-formed events appended to the tenant's chain in bulk (the test's own writer)."""
    from chalicelib.audit.trail import chain_head
    from chalicelib.storage.audit import AuditChainModel, AuditEventModel

    head = chain_head(tenant_id)
    seq, prev, ts = int(head.last_seq), head.last_hash, head.last_ts
    with AuditEventModel.batch_write() as batch:
        for n in range(count):
            seq += 1
            # Details that do not compress to nothing: a part holds a few hundred events.
            noise = hashlib.sha256(str(n).encode()).hexdigest()
            event = {"seq": seq, "ts": ts, "actor": {"kind": "system", "id": "bulk"}, "action": "test.bulk",
                     "target": f"item-{n:07d}", "details": {"n": n, "digest": noise}, "prev_hash": prev}
            event["hash"] = prev = event_hash(event)
            batch.save(AuditEventModel.of(tenant_id, event))
    AuditChainModel(tenant_id, last_seq=seq, last_hash=prev, last_ts=ts).save()


def queue_url() -> str:
    return boto3.client("sqs").get_queue_url(QueueName="switchboard-test-audit-exports")["QueueUrl"]


def deliver(body: str, context: Any = None) -> None:
    """One invocation of the consumer with one message, as Lambda's event source mapping makes it."""
    consumer = consumer_named(app_module.app, app_module, "audit_export")
    consumer.handler({"Records": [{"messageId": "m", "receiptHandle": "r", "body": body, "attributes": {},
                                   "messageAttributes": {}, "md5OfBody": "", "eventSource": "aws:sqs",
                                   "eventSourceARN": "arn", "awsRegion": "us-east-1"}]}, context)


def take_message() -> str | None:
    sqs = boto3.client("sqs")
    [message] = sqs.receive_message(QueueUrl=queue_url(), MaxNumberOfMessages=1).get("Messages", [None])
    if message is None:
        return None
    sqs.delete_message(QueueUrl=queue_url(), ReceiptHandle=message["ReceiptHandle"])
    return message["Body"]


def run_to_the_end(tenant_id: str, export_id: str) -> list[str]:
    """Every step's message, each delivered once; the export stays pending until the last."""
    bodies = []
    while (body := take_message()) is not None:
        assert AuditExportModel.get(tenant_id, export_id, consistent_read=True).status == "pending"
        bodies.append(body)
        deliver(body)
    return bodies


def request(api: Api, tenant: dict) -> str:
    accepted = api.call("POST", "/v1/audit/exports", EVERYTHING, token=tenant["admin_token"])
    assert accepted.status_code == 202, accepted.body
    return accepted.json_body["export_id"]


def gzip_members(data: bytes) -> int:
    members = 0
    while data:
        inflater = zlib.decompressobj(wbits=31)
        inflater.decompress(data)
        assert inflater.eof, "a member that does not end"
        data, members = inflater.unused_data, members + 1
    return members


def test_an_export_continues_in_chunks_and_the_file_verifies(api: Api, tenant: dict, tmp_path: Path, small_parts):
    t = tenant["tenant_id"]
    seed_chain(t, 1000)
    use_limits(export_events_per_chunk=1)  # each chunk ends at its first full part
    export_id = request(api, tenant)
    bodies = run_to_the_end(t, export_id)
    total = len(audit_events(t))  # every event up to the request's own: the range as the first step read it
    ready = api.call("GET", f"/v1/audit/exports/{export_id}", token=tenant["admin_token"]).json_body
    assert ready["status"] == "ready" and ready["chain_intact"] is True
    steps = [json.loads(body).get("step", 1) for body in bodies]
    assert steps == list(range(1, len(steps) + 1))  # chunks, then completing the file
    assert all(len(body) < 200 for body in bodies)  # the progress is on the item, not in the message
    body = boto3.client("s3").get_object(Bucket=BUCKET, Key=f"{t}/audit/{export_id}.jsonl.gz")["Body"].read()
    assert hashlib.sha256(body).hexdigest() == ready["sha256"] and len(body) == ready["size_bytes"]
    # One part and one gzip member per chunk, every part but the last full; any gzip reader reads one stream.
    parts = boto3.client("s3").head_object(Bucket=BUCKET, Key=f"{t}/audit/{export_id}.jsonl.gz",
                                           PartNumber=1)["PartsCount"]
    assert parts == gzip_members(body) == len(steps) - 1 >= 4 and len(body) >= (parts - 1) * PART
    assert len(gzip.decompress(body).splitlines()) == ready["event_count"] + 2
    path = tmp_path / "chunked.jsonl.gz"
    path.write_bytes(body)
    verified = offline_verify(path, "--public-key", write_public_key(api, tenant, tmp_path))
    assert ready["event_count"] == total
    assert verified.returncode == 0 and f"  events        {total}, seq 1..{total}\n" in verified.stdout, verified.stdout


def versions(key: str) -> list[str]:
    return [v["ETag"] for v in boto3.client("s3").list_object_versions(Bucket=BUCKET, Prefix=key).get("Versions", [])]


def test_a_repeated_delivery_writes_nothing_twice(api: Api, tenant: dict, small_parts, clock, monkeypatch):
    """SQS delivers at least once: a step's message again while it runs, after it ended, after the
    export is ready, all change nothing; a step long gone whose next step never began queues that one."""
    t = tenant["tenant_id"]
    seed_chain(t, 600)
    use_limits(export_events_per_chunk=1)
    export_id = request(api, tenant)
    first = take_message()
    assert first is not None
    # The same message delivered again while the first delivery is writing: it finds the step claimed.
    sent_parts: list[int] = []
    original_upload_part = export_file._GzipParts.send_part

    def send_part(self: Any) -> None:
        if not sent_parts:
            deliver(first)  # the duplicate, run in the middle of the first delivery's chunk
        sent_parts.append(self.last_part + 1)
        original_upload_part(self)

    monkeypatch.setattr(export_file._GzipParts, "send_part", send_part)
    deliver(first)
    monkeypatch.setattr(export_file._GzipParts, "send_part", original_upload_part)
    assert sent_parts == [1]  # the duplicate sent no part
    second = take_message()
    assert second is not None and json.loads(second)["step"] == 2 and take_message() is None
    deliver(first)  # after the step ended: dropped, and nothing queued (the next step's message is on its way)
    assert take_message() is None
    # The invocation that ended step 1 died before queueing step 2: SQS brings step 1 back after its
    # visibility timeout, which queues step 2 again.
    clock.advance(960)
    deliver(first)
    assert take_message() == second
    deliver(second)
    run_to_the_end(t, export_id)
    ready = AuditExportModel.get(t, export_id, consistent_read=True)
    assert ready.status == "ready"
    key = f"{t}/audit/{export_id}.jsonl.gz"
    before = versions(key)
    for body in (first, second):
        deliver(body)
    assert take_message() is None and versions(key) == before == [before[0]]
    assert AuditExportModel.get(t, export_id, consistent_read=True).sha256 == ready.sha256


class LambdaContext:
    """The one thing of Lambda's context a chunk asks: how long its invocation has left."""

    def __init__(self, remaining_ms: int) -> None:
        self.remaining_ms = remaining_ms

    def get_remaining_time_in_millis(self) -> int:
        return self.remaining_ms


def test_a_chunk_ends_when_its_invocation_runs_short_of_time(api: Api, tenant: dict, small_parts):
    t = tenant["tenant_id"]
    seed_chain(t, 700)
    export_id = request(api, tenant)  # the deployed chunk size: every event fits in one
    body = take_message()
    assert body is not None
    deliver(body, LambdaContext(remaining_ms=60_000))  # under the reserve: stop at the first full part
    progress = AuditExportModel.get(t, export_id, consistent_read=True).progress
    assert progress["parts"] == 1 and not progress["written"] and progress["next_seq"] < 300
    deliver(take_message() or "", LambdaContext(remaining_ms=800_000))  # the rest at once, over several parts
    progress = AuditExportModel.get(t, export_id, consistent_read=True).progress
    assert progress["written"] and progress["parts"] >= 3
    run_to_the_end(t, export_id)
    assert AuditExportModel.get(t, export_id, consistent_read=True).status == "ready"


def test_a_step_that_fails_fails_the_export_and_abandons_its_upload(api: Api, tenant: dict, small_parts):
    t = tenant["tenant_id"]
    seed_chain(t, 300)
    use_limits(export_events_per_chunk=1)
    export_id = request(api, tenant)
    body = take_message()
    sqs = boto3.client("sqs")
    sqs.delete_queue(QueueUrl=queue_url())  # the next step cannot be queued
    deliver(body or "")
    failed = AuditExportModel.get(t, export_id, consistent_read=True)
    assert failed.status == "failed" and failed.error and failed.s3_key is None
    assert boto3.client("s3").list_multipart_uploads(Bucket=BUCKET).get("Uploads", []) == []
