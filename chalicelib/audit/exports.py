"""Compliance exports: the switchboard.audit.v1 file, streamed to the export bucket.

A request records the export as pending and queues it (202 at once, however large the range); the
`audit_export` function (app.py, an SQS consumer) writes the file in steps, each a fresh invocation
queued by the one before: chunks of events streamed as gzip into the parts of one multipart upload
(chalicelib/audit/export_file.py), the last with the signed trailer, then a step that completes the
upload and records the file's SHA-256. Memory stays flat whatever the number of events, and no step
is bounded by one Lambda's 15 minutes but its own chunk. The bucket keeps the file under Object Lock.

The engine (start, run_step, the lease and the finish) serves every kind of export the audit-export
function writes: a visitor's access bundle (chalicelib/visitors/access_exports.py) is another.
"""
from __future__ import annotations

import contextlib
import json
import logging
from collections.abc import Callable, Iterable, Mapping
from datetime import datetime, timedelta
from typing import Any

from pynamodb.exceptions import DoesNotExist

from ..access.principals import Actor, Principal
from ..clock import iso
from ..errors import NotFound
from ..ids import new_id
from ..runtime import Budget, runtime
from ..storage.audit import AuditEventModel, AuditExportModel
from ..storage.helpers import refusal_means
from . import schemas as s
from .export_file import Progress, abort_file, complete_file, start_file, write_chunk
from .trail import record_event

log = logging.getLogger("switchboard.audit")
URL_SECONDS = 900
# A step's claim outlives any invocation (Lambda stops one at 900 s) and ends before SQS shows its
# message again (the queue's visibility timeout, 960 s): a step whose invocation died is taken up again.
LEASE_SECONDS = 930
# A chunk stops at its next full part once less than this is left of its invocation (a part of
# 8 MiB takes about a minute to fill at the measured rate; docs/benchmarks.md section 6).
RESERVE_SECONDS = 180
# A step's message seen again this long after the step ended, with the next step not begun, means the
# next step's message was never sent (a duplicate delivered in the meantime is simply dropped).
RESEND_AFTER_SECONDS = 60
AUDIT = "audit"  # the kind of an export whose item names none


# --- Requests and status ----------------------------------------------------------------------
def request_export(principal: Principal, body: s.ExportIn) -> s.ExportAccepted:
    rt = runtime()
    export = AuditExportModel(principal.tenant_id, new_id("x"), status="pending", range_from=body.range_from,
                              range_to=body.range_to, requested_by=principal.actor, created_at=rt.clock.utcnow(),
                              step=1)
    start(export, principal.actor, "audit.export_requested", export.export_id,
          {"from": body.range_from, "to": body.range_to})
    return s.ExportAccepted(export_id=export.export_id)


def start(export: AuditExportModel, actor: Actor, action: str, target: str, details: dict[str, Any]) -> None:
    """A new export of any kind saved, its request recorded (action, target, details), its first step queued."""
    export.save(condition=AuditExportModel.export_id.does_not_exist())
    record_event(export.tenant_id, actor, action, target, details)
    try:
        queue_step(export.tenant_id, export.export_id)
    except Exception:
        # Never left pending forever: the export says it failed, the caller gets a 500.
        _finish(export, [AuditExportModel.status.set("failed"),
                         AuditExportModel.error.set("The export could not be queued; request it again.")])
        raise


def export_status(principal: Principal, export_id: str) -> s.ExportStatus:
    try:
        export = AuditExportModel.get(principal.tenant_id, export_id, consistent_read=True)
    except DoesNotExist:
        raise NotFound("No such export.") from None
    if export.kind is not None:  # a visitor's access bundle: read on its own route
        raise NotFound("No such export.")
    range_from, range_to = audit_range(export)
    out = s.ExportStatus(export_id=export.export_id, status=export.status, range_from=range_from,
                         range_to=range_to, created_at=iso(export.created_at),
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
def handle_export_messages(bodies: Iterable[str], context: Any = None,
                           works: Mapping[str, StepWork] | None = None) -> None:
    """Each message names an export and the step it asks for (1 when absent: the request's own)."""
    for body in bodies:
        request = json.loads(body)
        run_step(request["tenant_id"], request["export_id"], int(request.get("step", 1)), context, works)


# A kind of export's share of one step: the actions that finish the export as ready, or None when it
# recorded its progress and queued the next step (advance). It raises to fail the export: ExportRefused
# with a code the caller is shown, anything else as "could not be written".
StepWork = Callable[[AuditExportModel, int, Any], "list[Any] | None"]


class ExportRefused(Exception):
    """An export that will not be written as asked (too large, say): failed with this code and message."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code, self.message = code, message


def run_step(tenant_id: str, export_id: str, step: int, context: Any = None,
             works: Mapping[str, StepWork] | None = None) -> None:
    """One invocation's share of an export (the work of its kind, chalicelib/visitors/access_exports.py
    adds access bundles to audit files). Steps run one at a time and once: a message for a step the
    export is not at is a duplicate, and the step is claimed with a lease, so a second delivery never
    writes anything."""
    try:
        export = AuditExportModel.get(tenant_id, export_id, consistent_read=True)
    except DoesNotExist:
        return
    if export.status != "pending":
        return
    now = runtime().clock.utcnow()
    if int(export.step) != step:
        if (int(export.step) == step + 1 and export.lease_until is None and export.stepped_at is not None
                and export.stepped_at + timedelta(seconds=RESEND_AFTER_SECONDS) < now):
            # SQS brought this step back long after it ended, and the next has not begun: the invocation
            # died between recording the step and queueing the next, so queue it again.
            queue_step(tenant_id, export_id, step + 1)
        return
    if not _claim(export, step, now):
        return  # another delivery of this step holds it
    try:  # a kind this consumer was not given the work of fails too, rather than staying pending
        done = (works or {AUDIT: write_audit_file})[export.kind or AUDIT](export, step, context)
    except ExportRefused as refused:
        _finish(export, [AuditExportModel.status.set("failed"), AuditExportModel.error.set(refused.message),
                         AuditExportModel.error_code.set(refused.code)])
        return
    except Exception:
        log.exception("%s export %s of %s failed at step %s", export.kind or AUDIT, export_id, tenant_id, step)
        _finish(export, [AuditExportModel.status.set("failed"),
                         AuditExportModel.error.set("The export could not be written; request it again.")])
        return
    if done is not None:
        _finish(export, [AuditExportModel.status.set("ready"), AuditExportModel.lease_until.remove(), *done])


def advance(export: AuditExportModel, step: int, progress: dict[str, Any]) -> None:
    """The step done with this progress carried on the item, and the next queued."""
    export.update(actions=[AuditExportModel.step.set(step + 1), AuditExportModel.progress.set(progress),
                           AuditExportModel.stepped_at.set(runtime().clock.utcnow()),
                           AuditExportModel.lease_until.remove()], condition=AuditExportModel.step == step)
    queue_step(export.tenant_id, export.export_id, step + 1)


def write_audit_file(export: AuditExportModel, step: int, context: Any) -> list[Any] | None:
    """An audit file's step: a chunk of events, or (once all are written) completing the file."""
    range_from, range_to = audit_range(export)
    key = f"{export.tenant_id}/audit/{export.export_id}.jsonl.gz"
    progress = Progress.of(export.progress) if export.progress else None
    try:
        if progress is None:
            progress = start_file(key, seq_range(export.tenant_id, range_from, range_to))
        if not progress.written:
            budget = Budget(runtime().config.export_events_per_chunk, context, RESERVE_SECONDS)
            progress = write_chunk(export.tenant_id, range_from, range_to, key, progress, budget)
            advance(export, step, progress.as_json())
            return None
        sha256, size = complete_file(key, progress)
    except Exception:
        if progress is not None:
            with contextlib.suppress(Exception):  # the bucket's lifecycle rule removes it otherwise
                abort_file(key, progress.upload_id)
        raise
    return [AuditExportModel.s3_key.set(key), AuditExportModel.sha256.set(sha256),
            AuditExportModel.event_count.set(progress.event_count), AuditExportModel.size_bytes.set(size),
            *([AuditExportModel.broken_seq.set(progress.broken_seq)] if progress.broken_seq is not None else [])]


def audit_range(export: AuditExportModel) -> tuple[str, str]:
    if export.range_from is None or export.range_to is None:
        raise ValueError(f"export {export.export_id} is not an audit file's (it has no range)")
    return export.range_from, export.range_to


def _claim(export: AuditExportModel, step: int, now: datetime) -> bool:
    """The step's lease taken, unless another delivery holds an unexpired one."""
    with refusal_means() as refused:
        export.update(actions=[AuditExportModel.lease_until.set(now + timedelta(seconds=LEASE_SECONDS))],
                      condition=(AuditExportModel.step == step) & (AuditExportModel.lease_until.does_not_exist()
                                                                   | (AuditExportModel.lease_until < now)))
    return not refused


def queue_step(tenant_id: str, export_id: str, step: int | None = None) -> None:
    """The export's next step, as a message to its own queue (a fresh invocation): a few dozen bytes."""
    rt = runtime()
    sqs = rt.client("sqs")
    queue_url = rt.once("audit_export_queue_url", lambda: sqs.get_queue_url(
        QueueName=rt.config.audit_export_queue)["QueueUrl"])
    sqs.send_message(QueueUrl=queue_url, MessageBody=json.dumps(
        {"tenant_id": tenant_id, "export_id": export_id, **({"step": step} if step else {})}))


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
