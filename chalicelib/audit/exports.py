"""Compliance exports: the switchboard.audit.v1 file, streamed to the export bucket.

A request records the export as pending and queues it (202 at once, however large the range); the
`audit_export` function (app.py, an SQS consumer) writes the file as a gzip stream in multipart
chunks, so memory stays flat whatever the number of events, signs the trailer with the audit key,
and records the file's SHA-256. The bucket keeps it under Object Lock (infra/template.yaml).
"""
from __future__ import annotations

import hashlib
import json
import logging
import zlib
from collections.abc import Iterable, Iterator
from datetime import timedelta
from typing import Any

from pynamodb.exceptions import DoesNotExist

from ..access.principals import Principal
from ..clock import iso
from ..errors import NotFound
from ..ids import new_id
from ..runtime import runtime
from ..storage.audit import AuditEventModel, AuditExportModel
from ..storage.helpers import refusal_means
from . import schemas as s
from .chain import ALGORITHM, EXPORT, FORMAT, GENESIS, ChainBroken, ChainState
from .signing import audit_signer
from .trail import record_event

log = logging.getLogger("switchboard.audit")
PART_BYTES = 8 * 1024 * 1024  # S3 multipart parts (at least 5 MiB except the last)
URL_SECONDS = 900


# --- Requests and status ----------------------------------------------------------------------
def request_export(principal: Principal, body: s.ExportIn) -> s.ExportAccepted:
    rt = runtime()
    export = AuditExportModel(principal.tenant_id, new_id("x"), status="pending", range_from=body.range_from,
                              range_to=body.range_to, requested_by=principal.actor, created_at=rt.clock.utcnow())
    export.save(condition=AuditExportModel.export_id.does_not_exist())
    record_event(principal.tenant_id, principal.actor, "audit.export_requested", export.export_id,
                 {"from": body.range_from, "to": body.range_to})
    sqs = rt.client("sqs")
    try:
        queue_url = rt.once("audit_export_queue_url", lambda: sqs.get_queue_url(
            QueueName=rt.config.audit_export_queue)["QueueUrl"])
        sqs.send_message(QueueUrl=queue_url, MessageBody=json.dumps(
            {"tenant_id": principal.tenant_id, "export_id": export.export_id}))
    except Exception:
        # Never left pending forever: the export says it failed, the caller gets a 500.
        _finish(export, [AuditExportModel.status.set("failed"),
                         AuditExportModel.error.set("The export could not be queued; request it again.")])
        raise
    return s.ExportAccepted(export_id=export.export_id)


def export_status(principal: Principal, export_id: str) -> s.ExportStatus:
    try:
        export = AuditExportModel.get(principal.tenant_id, export_id, consistent_read=True)
    except DoesNotExist:
        raise NotFound("No such export.") from None
    out = s.ExportStatus(export_id=export.export_id, status=export.status, range_from=export.range_from,
                         range_to=export.range_to, created_at=iso(export.created_at),
                         finished_at=iso(export.finished_at) if export.finished_at else None, error=export.error)
    if export.status != "ready":
        return out
    rt = runtime()
    out.url = rt.client("s3").generate_presigned_url(
        "get_object", Params={"Bucket": rt.config.export_bucket, "Key": export.s3_key}, ExpiresIn=URL_SECONDS)
    out.url_expires_at = iso(rt.clock.utcnow() + timedelta(seconds=URL_SECONDS))
    out.sha256, out.event_count, out.size_bytes = export.sha256, int(export.event_count), int(export.size_bytes)
    out.chain_intact = export.broken_seq is None
    out.broken_seq = int(export.broken_seq) if export.broken_seq is not None else None
    # The link is the download: whoever is handed one is recorded.
    record_event(principal.tenant_id, principal.actor, "audit.export_downloaded", export_id,
                 {"sha256": export.sha256})
    return out


# --- The worker ---------------------------------------------------------------------------------
def handle_export_messages(bodies: Iterable[str]) -> None:
    for body in bodies:
        request = json.loads(body)
        build_export(request["tenant_id"], request["export_id"])


def build_export(tenant_id: str, export_id: str) -> None:
    """Write one pending export (a redelivered message finds it done and does nothing)."""
    try:
        export = AuditExportModel.get(tenant_id, export_id, consistent_read=True)
    except DoesNotExist:
        return
    if export.status != "pending":
        return
    key = f"{tenant_id}/audit/{export_id}.jsonl.gz"
    try:
        written = write_export(tenant_id, export.range_from, export.range_to, key)
    except Exception:
        log.exception("audit export %s of %s failed", export_id, tenant_id)
        _finish(export, [AuditExportModel.status.set("failed"),
                         AuditExportModel.error.set("The export could not be written; request it again.")])
        return
    _finish(export, [AuditExportModel.status.set("ready"), AuditExportModel.s3_key.set(key),
                     AuditExportModel.sha256.set(written["sha256"]),
                     AuditExportModel.event_count.set(written["event_count"]),
                     AuditExportModel.size_bytes.set(written["size_bytes"]),
                     *([AuditExportModel.broken_seq.set(written["broken_seq"])] if written["broken_seq"] else [])])


def _finish(export: AuditExportModel, actions: list[Any]) -> None:
    with refusal_means():  # no longer pending: finished by an earlier delivery of the same message
        export.update(actions=[*actions, AuditExportModel.finished_at.set(runtime().clock.utcnow())],
                      condition=AuditExportModel.status == "pending")


def seq_range(tenant_id: str, range_from: str, range_to: str) -> tuple[int, int] | None:
    """The seqs of events with from <= ts < to (ts never decreases along seq), or None.

    "{from}" sorts before every "{from}#seq" and "{to}" before every "{to}#seq", so comparing the
    bare times with ts_seq takes every event of the first second and none of the last."""
    first = next(iter(AuditEventModel.time_index.query(tenant_id, AuditEventModel.ts_seq >= range_from,
                                                       limit=1)), None)
    last = next(iter(AuditEventModel.time_index.query(tenant_id, AuditEventModel.ts_seq < range_to,
                                                      scan_index_forward=False, limit=1)), None)
    if first is None or last is None or int(first.seq) > int(last.seq):
        return None
    return int(first.seq), int(last.seq)


def events_between(tenant_id: str, seqs: tuple[int, int] | None) -> Iterator[dict[str, Any]]:
    if seqs is None:
        return iter(())
    return (item.as_event() for item in AuditEventModel.query(
        tenant_id, AuditEventModel.seq.between(*seqs), consistent_read=True))


def write_export(tenant_id: str, range_from: str, range_to: str, key: str) -> dict[str, Any]:
    rt = runtime()
    signer = audit_signer()
    # One moment for the header and the digest: the verifier refuses a header the digest contradicts.
    generated_at = iso(rt.clock.utcnow())
    stream = _GzipUpload(rt.client("s3"), rt.config.export_bucket, key)
    try:
        stream.write_line({"format": FORMAT, "tenant_id": tenant_id, "from": range_from, "to": range_to,
                           "generated_at": generated_at, "key_id": signer.key_id})
        checker: ChainState | None = None
        first = last = broken = None
        count = 0
        for event in events_between(tenant_id, seq_range(tenant_id, range_from, range_to)):
            if checker is None:  # a middle range starts from whatever its first event links to
                first, checker = event, ChainState(event["seq"], GENESIS if event["seq"] == 1 else event["prev_hash"])
            if broken is None:
                try:
                    checker.accept(event)
                except ChainBroken as err:  # still exported as stored: the auditor must see it
                    broken = err.seq
            last, count = event, count + 1
            stream.write_line(event)
        # Everything a reader relies on is signed; the header only repeats it (docs/audit.md).
        digest = {"kind": EXPORT, "tenant_id": tenant_id, "from": range_from, "to": range_to,
                  "first_seq": first["seq"] if first else None,
                  "first_prev_hash": first["prev_hash"] if first else None,
                  "last_seq": last["seq"] if last else None, "last_hash": last["hash"] if last else None,
                  "event_count": count, "generated_at": generated_at}
        stream.write_line({"digest": digest, "algorithm": ALGORITHM, "key_id": signer.key_id,
                           "signature": signer.sign(digest)})
        sha256, size = stream.close()
    except BaseException:
        stream.abort()
        raise
    return {"sha256": sha256, "size_bytes": size, "event_count": digest["event_count"], "broken_seq": broken}


class _GzipUpload:
    """JSON lines, gzip-compressed as they come, uploaded in parts: memory stays about one part."""

    def __init__(self, s3: Any, bucket: str, key: str) -> None:
        self._s3, self._bucket, self._key = s3, bucket, key
        self._upload_id = s3.create_multipart_upload(Bucket=bucket, Key=key, ContentType="application/gzip",
                                                     ContentEncoding="identity")["UploadId"]
        self._gzip = zlib.compressobj(level=6, wbits=31)  # wbits 31: gzip framing
        self._buffer = bytearray()
        self._parts: list[dict[str, Any]] = []
        self._sha256, self._size = hashlib.sha256(), 0

    def write_line(self, value: dict[str, Any]) -> None:
        self._take(self._gzip.compress(json.dumps(value, sort_keys=True, ensure_ascii=False).encode() + b"\n"))
        if len(self._buffer) >= PART_BYTES:
            self._send_part()

    def close(self) -> tuple[str, int]:
        self._take(self._gzip.flush())
        self._send_part()
        self._s3.complete_multipart_upload(Bucket=self._bucket, Key=self._key, UploadId=self._upload_id,
                                           MultipartUpload={"Parts": self._parts})
        return self._sha256.hexdigest(), self._size

    def abort(self) -> None:
        self._s3.abort_multipart_upload(Bucket=self._bucket, Key=self._key, UploadId=self._upload_id)

    def _take(self, data: bytes) -> None:
        self._buffer += data
        self._sha256.update(data)
        self._size += len(data)

    def _send_part(self) -> None:
        number = len(self._parts) + 1
        # The buffer itself, not a bytes() copy of it (a second part's worth of memory); a new one
        # after, in case the client keeps a reference to the body it sent.
        etag = self._s3.upload_part(Bucket=self._bucket, Key=self._key, UploadId=self._upload_id,
                                    PartNumber=number, Body=self._buffer)["ETag"]
        self._parts.append({"PartNumber": number, "ETag": etag})
        self._buffer = bytearray()
