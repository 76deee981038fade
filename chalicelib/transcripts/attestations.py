"""Retention attestations: the retention job signs, per tenant it visits, what it shredded and the
oldest transcript that survives, so an auditor sees the policy applied every day (docs/audit.md).

Cadence: the job runs hourly over every tenant, and a KMS Sign plus an audit append for each tenant
every hour would be 24 signed events a day that mostly say "nothing". So a tenant is attested
- whenever a run shredded any of its conversations (the signed account of what was destroyed), and
- otherwise once per UTC day, by the first run that covers the tenant completely that day,
which is at least daily. A run that stopped part-way through a tenant (its budget spent) attests what
it did with `complete: false`; only a complete attestation counts for the day, so the run that takes
the pass up attests the tenant again. Cost per tenant and run: one GetItem (the day last attested);
once a day or when something was shredded, one Query (limit n+1) for the oldest survivor, one KMS Sign,
the audit append and one UpdateItem. Never a scan.
"""
from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from pynamodb.exceptions import DoesNotExist

from ..audit.chain import RETENTION_ATTESTATION
from ..audit.signing import signed
from ..audit.trail import record_event, system_actor
from ..clock import iso
from ..runtime import runtime
from ..storage.conversations import ConversationModel
from ..storage.tenants import TenantModel
from .key_ids import conversation_key_id

ACTION = "retention.attested"


@dataclass
class Visit:
    """What one run did in one tenant: the conversations it shredded and the key versions each lost."""
    tenant_id: str
    retention_days: int
    cutoff: datetime
    shredded: dict[str, list[int]] = field(default_factory=dict)


def attest(visit: Visit, complete: bool) -> bool:
    """Sign and record the visit if it is due (something shredded, or the day not yet attested)."""
    today = runtime().clock.utcnow().date().isoformat()
    if not visit.shredded and (not complete or _attested_on(visit.tenant_id) == today):
        return False
    record_event(visit.tenant_id, system_actor("retention"), ACTION, visit.tenant_id, signed(_digest(visit, complete)))
    if complete:
        TenantModel(visit.tenant_id).update(actions=[TenantModel.retention_attested_on.set(today)],
                                            condition=TenantModel.tenant_id.exists())
    return True


def _digest(visit: Visit, complete: bool) -> dict[str, Any]:
    ids = sorted(visit.shredded)
    keys = sorted(conversation_key_id(visit.tenant_id, conversation_id, version)
                  for conversation_id, versions in visit.shredded.items() for version in versions)
    oldest = _oldest_surviving(visit)
    return {"kind": RETENTION_ATTESTATION, "tenant_id": visit.tenant_id, "generated_at": iso(runtime().clock.utcnow()),
            "retention_days": visit.retention_days, "cutoff": iso(visit.cutoff), "shredded": len(ids),
            "conversations_sha256": _sha256_lines(ids), "keys_destroyed": len(keys), "keys_sha256": _sha256_lines(keys),
            "oldest_surviving_closed_at": iso(oldest) if oldest else None, "complete": complete}


def _sha256_lines(values: list[str]) -> str:
    """SHA-256 of the sorted values joined by newlines (what an auditor holding the list recomputes)."""
    return hashlib.sha256("\n".join(values).encode()).hexdigest()


def _oldest_surviving(visit: Visit) -> datetime | None:
    """closed_at of the oldest closed conversation not shredded, from the sparse retention-index
    (open conversations are not in it: retention counts from the close). Those this run has just
    shredded may still show while the index catches up, so it reads one more than their number."""
    wanted = len(visit.shredded) + 1
    for conversation in ConversationModel.retention_index.query(visit.tenant_id, limit=wanted, page_size=wanted):
        if conversation.conversation_id not in visit.shredded:
            return conversation.closed_at
    return None


def _attested_on(tenant_id: str) -> str | None:
    try:
        return TenantModel.get(tenant_id, attributes_to_get=["retention_attested_on"]).retention_attested_on
    except DoesNotExist:
        return None
