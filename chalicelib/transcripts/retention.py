"""The scheduled `retention` job: shred conversations closed more than retention_days ago.

Each tenant is visited through the directory index with its settings; its expired conversations
come from the sparse retention-index (closed, not yet shredded, oldest first), so a run reads what
it shreds plus one small Query per tenant, never a scan.
"""
from __future__ import annotations

from datetime import timedelta

from ..audit.trail import record_event, system_actor
from ..clock import iso
from ..runtime import runtime
from ..storage.conversations import ConversationModel
from ..storage.settings import Settings
from ..storage.tenants import every_tenant
from .shredding import shred_closed


def run_retention() -> dict[str, int]:
    now = runtime().clock.utcnow()
    tenants = shredded = 0
    for tenant in every_tenant():
        tenants += 1
        cutoff = now - timedelta(days=Settings.model_validate(tenant.settings).retention_days)
        count = sum(shred_closed(tenant.tenant_id, expired.conversation_id, now, closed_before=cutoff)
                    for expired in ConversationModel.retention_index.query(
                        tenant.tenant_id, ConversationModel.closed_at <= cutoff))
        if count:
            record_event(tenant.tenant_id, system_actor("retention"), "retention.shredded", tenant.tenant_id,
                         {"conversations": count, "closed_before": iso(cutoff)})
        shredded += count
    return {"tenants": tenants, "shredded": shredded}
