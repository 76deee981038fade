"""The scheduled `retention` job: shred conversations closed more than retention_days ago.

Each tenant is visited through the directory index with its settings; its expired conversations
come from the sparse retention-index (closed, not yet shredded, oldest first), so a run reads what
it shreds plus one small Query per tenant, never a scan. A run handles bounded pages and stops when
its budget is spent; the next run takes up the pass where it stopped (chalicelib/storage/sweeps.py).
"""
from __future__ import annotations

from datetime import timedelta
from typing import Any

from ..audit.trail import record_event, system_actor
from ..clock import iso
from ..runtime import Budget, runtime
from ..storage.conversations import ConversationModel
from ..storage.settings import Settings
from ..storage.sweeps import Sweep
from ..storage.tenants import TenantModel, every_tenant
from .shredding import shred_closed

RESERVE_SECONDS = 10  # of the job's 30-second Lambda: a page of shredding takes a second or two


def run_retention(context: Any = None) -> dict[str, Any]:
    now = runtime().clock.utcnow()
    sweep: Sweep[TenantModel] = Sweep("retention", Budget(runtime().config.sweep_items_per_run, context,
                                                          RESERVE_SECONDS))
    cutoffs: dict[str, Any] = {}

    def expired(tenant: TenantModel, after: dict[str, Any] | None, limit: int) -> Any:
        cutoffs[tenant.tenant_id] = now - timedelta(days=Settings.model_validate(tenant.settings).retention_days)
        return ConversationModel.retention_index.query(tenant.tenant_id, ConversationModel.closed_at <= cutoffs[
            tenant.tenant_id], limit=limit, last_evaluated_key=after)

    shredded: dict[str, int] = {}  # per tenant visited: one audit event each, however many pages
    for tenant, page in sweep.pages(every_tenant, lambda tenant: tenant.tenant_id, expired):
        cutoff = cutoffs[tenant.tenant_id]
        shredded[tenant.tenant_id] = shredded.get(tenant.tenant_id, 0) + sum(
            shred_closed(tenant.tenant_id, conversation.conversation_id, now, closed_before=cutoff)
            for conversation in page)
    for tenant_id, count in shredded.items():
        if count:
            record_event(tenant_id, system_actor("retention"), "retention.shredded", tenant_id,
                         {"conversations": count, "closed_before": iso(cutoffs[tenant_id])})
    return {"tenants": len(shredded), "shredded": sum(shredded.values()), "pass_finished": sweep.finished}
