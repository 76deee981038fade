"""The single place every security-relevant act is recorded: one hash chain per tenant.

Appending moves the tenant's chain head from seq n to n+k in one DynamoDB transaction that also puts
events n+1..n+k (each only if its seq is new); the head's condition (still at n) means concurrent
appenders never fork or skip the chain. Uncontended, an append links just its own event (k = 1).
An appender that loses the race leaves its event waiting in `audit-pending`; the appender of the
oldest waiting event links every waiting event of the tenant at once (group commit, docs/audit.md)
while the others look again until theirs is gone, so a tenant's appends scale with its concurrent
writers instead of queueing for the head one by one. Waiting events are never part of the trail
that is read; one left by an appender that died is linked by the next contended appender once it
has waited a second, or by the nightly audit-verify job.
Details never hold message text or secrets: callers pass ids, counts, field names.
"""
from __future__ import annotations

import json
import logging
import random
import secrets
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from pynamodb.exceptions import DoesNotExist, TransactWriteError

from ..access.principals import Actor, actor
from ..clock import iso
from ..runtime import runtime
from ..storage.audit import AuditChainModel, AuditEventModel, AuditPendingModel
from ..storage.helpers import refusal_means, transaction
from .chain import GENESIS, canonical, event_hash

log = logging.getLogger("switchboard.audit")
# Rounds an appender tries before the request fails; every lost round means another appender linked.
MAX_ATTEMPTS = 60
# A transaction holds at most 100 items: the head, and per waiting event its put and its delete.
MAX_BATCH = 49
# ... and at most 4 MB: the events put stay well under it whatever their details.
MAX_BATCH_BYTES = 2_000_000
# A waiting appender that is not the oldest looks again this often (about half a DynamoDB round trip) ...
FOLLOW_SECONDS = 0.005
# ... and links the line itself once the oldest waiting event is this old: its appender has died.
ABANDONED_SECONDS = 1.0
# However long the line, an append fails (the event still waiting) after this long, or this many looks
# (a clock that stands still in a test must not keep it looking for ever).
GIVE_UP_SECONDS = 20.0
MAX_LOOKS = int(GIVE_UP_SECONDS / FOLLOW_SECONDS)


@dataclass(frozen=True)
class Draft:
    """An event before it has a place in the chain; pending_id is None for one not left waiting."""
    ts: str
    actor: Actor
    action: str
    target: str
    details: dict[str, Any]
    pending_id: str | None = None


def system_actor(job: str) -> Actor:
    return actor("system", job)


def record_event(tenant_id: str, actor: Actor, action: str, target: str,
                 details: dict[str, Any] | None = None) -> None:
    """Append one event to the tenant's chain; returns once it is linked (on the trail)."""
    draft = Draft(iso(runtime().clock.utcnow()), actor, action, target, details or {})
    if link(tenant_id, chain_head(tenant_id), [draft]) is not None:
        return
    # Contended: wait in line; the appender of the oldest waiting event links the line, ours with it.
    pending_id = _leave_waiting(tenant_id, draft)
    give_up_at, lost = runtime().clock.now() + GIVE_UP_SECONDS, 0
    for _ in range(MAX_LOOKS):
        if lost == MAX_ATTEMPTS or runtime().clock.now() > give_up_at:
            break
        batch = waiting(tenant_id)
        ids = [item.pending_id for item in batch if item.pending_id]  # every waiting event has one
        if pending_id not in ids and (len(ids) < MAX_BATCH or pending_id < ids[-1]):
            return  # gone from the waiting: only linking deletes a waiting event
        if ids[0] != pending_id and not _abandoned(ids[0]):
            runtime().clock.sleep(FOLLOW_SECONDS)  # its appender is linking: look again shortly
            continue
        linked = link(tenant_id, chain_head(tenant_id), batch)
        if linked is None:  # the head moved (an uncontended append) or another linker was first
            lost += 1
            _back_off(lost)
        elif pending_id in linked:
            return
    # Never silently lost: the event stays waiting (the next appender or audit-verify links it), the
    # caller's request fails and operators are alarmed.
    log.error(json.dumps({"alarm": "audit_append_failed", "tenant_id": tenant_id, "action": action,
                          "target": target}))
    raise RuntimeError(f"could not append {action} to the audit chain of {tenant_id}")


def link_waiting(tenant_id: str) -> int:
    """Link the events left waiting (by appenders that died before they were linked); how many. Any
    still waiting after MAX_ATTEMPTS lost rounds are linked by the next appender or run."""
    count = 0
    for attempt in range(MAX_ATTEMPTS):
        head = chain_head(tenant_id)
        batch = waiting(tenant_id)
        if not batch:
            break
        linked = link(tenant_id, head, batch)
        if linked is None:
            _back_off(attempt)
        else:
            count += len(linked)
    return count


def link(tenant_id: str, head: AuditChainModel | None, drafts: list[Draft]) -> dict[str | None, int] | None:
    """Put drafts (in order, as many as one transaction holds) on the chain after `head`, deleting the
    waiting items they came from; the seq each took by pending_id (None for a draft not left waiting),
    or None when the head had moved or another appender linked one of them first (nothing is written
    then)."""
    seq = int(head.last_seq) if head else 0
    prev_hash, prev_ts = (head.last_hash, head.last_ts) if head else (GENESIS, "")
    linked: dict[str | None, int] = {}
    size = 0
    try:
        with transaction() as tx:
            for draft in drafts[:MAX_BATCH]:
                # ts never goes backwards along the chain, even across containers with skewed clocks.
                event: dict[str, Any] = {
                    "seq": seq + 1, "ts": max(draft.ts, prev_ts), "actor": draft.actor, "action": draft.action,
                    "target": draft.target, "details": draft.details, "prev_hash": prev_hash}
                event["hash"] = event_hash(event)
                size += len(canonical(event))
                if linked and size > MAX_BATCH_BYTES:
                    break
                tx.save(AuditEventModel.of(tenant_id, event),
                        condition=AuditEventModel.seq.does_not_exist())
                if draft.pending_id is not None:
                    tx.delete(AuditPendingModel(tenant_id, draft.pending_id),
                              condition=AuditPendingModel.pending_id.exists())
                seq, prev_hash, prev_ts = event["seq"], event["hash"], event["ts"]
                linked[draft.pending_id] = seq
            tx.save(AuditChainModel(tenant_id, last_seq=seq, last_hash=prev_hash, last_ts=prev_ts),
                    condition=(AuditChainModel.last_seq == head.last_seq) if head
                    else AuditChainModel.tenant_id.does_not_exist())
    except TransactWriteError:
        return None
    return linked


def waiting(tenant_id: str) -> list[Draft]:
    """The oldest events waiting to be linked, as many as one transaction can link."""
    return [Draft(item.ts, item.actor, item.action, item.target, item.details, item.pending_id)
            for item in AuditPendingModel.query(tenant_id, consistent_read=True, limit=MAX_BATCH)]


def chain_head(tenant_id: str) -> AuditChainModel | None:
    try:
        return AuditChainModel.get(tenant_id, consistent_read=True)
    except DoesNotExist:
        return None


def _back_off(attempt: int) -> None:
    """After a lost round: jittered and growing, so the losers do not all read again at once."""
    runtime().clock.sleep(random.uniform(0, min(0.001 * 2 ** attempt, 0.1)))


def _abandoned(pending_id: str) -> bool:
    """Left waiting longer ago than a live appender takes to link it (pending_id begins with the time)."""
    left_at = datetime.fromisoformat(pending_id.split("#", 1)[0])
    return (runtime().clock.utcnow() - left_at).total_seconds() > ABANDONED_SECONDS


def _leave_waiting(tenant_id: str, draft: Draft) -> str:
    pending_id = f"{runtime().clock.utcnow().isoformat(timespec='microseconds')}#{secrets.token_hex(8)}"
    # Refused only if botocore retried a put that had reached DynamoDB: the random id is this appender's.
    with refusal_means():
        AuditPendingModel(tenant_id, pending_id, ts=draft.ts, actor=draft.actor, action=draft.action,
                          target=draft.target, details=draft.details
                          ).save(condition=AuditPendingModel.pending_id.does_not_exist())
    return pending_id
