"""The single place every security-relevant act is recorded: one hash chain per tenant.

An append is one DynamoDB transaction: the event is put (only if its seq is new) and the tenant's
chain head moves from seq n-1 to n (only if it is still at n-1). Concurrent appenders therefore
never fork or skip the chain: the loser re-reads the head and tries again on top of the winner.
Details never hold message text or secrets: callers pass ids, counts, field names.
"""
from __future__ import annotations

import json
import logging
import random
import time
from typing import Any

from pynamodb.exceptions import DoesNotExist, TransactWriteError

from ..access.principals import Actor, actor
from ..clock import iso
from ..runtime import runtime
from ..storage.audit import AuditChainModel, AuditEventModel
from ..storage.helpers import transaction
from .chain import GENESIS, event_hash

log = logging.getLogger("switchboard.audit")
# Appenders racing on one tenant's head retry with growing jitter, for up to several seconds.
MAX_ATTEMPTS = 60


def system_actor(job: str) -> Actor:
    return actor("system", job)


def record_event(tenant_id: str, actor: Actor, action: str, target: str,
                 details: dict[str, Any] | None = None) -> int:
    """Append one event to the tenant's chain; the seq it took."""
    details = details or {}
    for attempt in range(MAX_ATTEMPTS):
        head = chain_head(tenant_id)
        seq = (int(head.last_seq) if head else 0) + 1
        # ts never goes backwards along the chain, even across containers with skewed clocks.
        ts = max(iso(runtime().clock.utcnow()), head.last_ts if head else "")
        event = {"seq": seq, "ts": ts, "actor": actor, "action": action, "target": target,
                 "details": details, "prev_hash": head.last_hash if head else GENESIS}
        event["hash"] = event_hash(event)
        try:
            with transaction() as tx:
                tx.save(AuditEventModel.of(tenant_id, event), condition=AuditEventModel.seq.does_not_exist())
                new_head = AuditChainModel(tenant_id, last_seq=seq, last_hash=event["hash"], last_ts=ts)
                tx.save(new_head, condition=(AuditChainModel.last_seq == seq - 1) if head
                        else AuditChainModel.tenant_id.does_not_exist())
            return seq
        except TransactWriteError:
            # Exponential, jittered: a burst of appenders (a queue of chats assigned at once) spreads
            # out instead of all reading the head again together, each miss a wasted transaction.
            time.sleep(random.uniform(0, min(0.004 * 2 ** attempt, 0.25)))
    # Never silently lost: the caller's request fails and operators are alarmed.
    log.error(json.dumps({"alarm": "audit_append_failed", "tenant_id": tenant_id, "action": action,
                          "target": target}))
    raise RuntimeError(f"could not append {action} to the audit chain of {tenant_id}")


def chain_head(tenant_id: str) -> AuditChainModel | None:
    try:
        return AuditChainModel.get(tenant_id, consistent_read=True)
    except DoesNotExist:
        return None
