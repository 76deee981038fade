"""The scheduled `retention` job: shred conversations closed more than retention_days ago.

Each tenant is visited through the directory index with its settings; its expired conversations
come from the sparse retention-index (closed, not yet shredded, oldest first), so a run reads what
it shreds plus one small Query per tenant, never a scan. A run handles bounded pages and stops when
its budget is spent; the next run takes up the pass where it stopped (chalicelib/storage/sweeps.py).
Each tenant it covers is attested, signed, when due (attestations.py).
"""
from __future__ import annotations

from datetime import timedelta
from typing import Any

from ..runtime import Budget, runtime
from ..storage.conversations import ConversationModel
from ..storage.email_threads import forget_conversation
from ..storage.settings import Settings
from ..storage.sweeps import Sweep
from ..storage.tenants import TenantModel, every_tenant
from .attestations import Visit, attest
from .shredding import shred_closed

RESERVE_SECONDS = 10  # of the job's 30-second Lambda: a page of shredding takes a second or two


def run_retention(context: Any = None) -> dict[str, Any]:
    now = runtime().clock.utcnow()
    sweep: Sweep[TenantModel] = Sweep("retention", Budget(runtime().config.sweep_items_per_run, context,
                                                          RESERVE_SECONDS))
    visits: dict[str, Visit] = {}  # per tenant visited: what this run shredded there, however many pages

    def expired(tenant: TenantModel, after: dict[str, Any] | None, limit: int) -> Any:
        days = Settings.model_validate(tenant.settings).retention_days
        visit = visits.setdefault(tenant.tenant_id, Visit(tenant.tenant_id, days, now - timedelta(days=days)))
        return ConversationModel.retention_index.query(tenant.tenant_id, ConversationModel.closed_at <= visit.cutoff,
                                                       limit=limit, last_evaluated_key=after)

    attested, previous = 0, None
    for tenant, page in sweep.pages(every_tenant, lambda tenant: tenant.tenant_id, expired):
        visit = visits[tenant.tenant_id]
        if previous is not None and previous is not visit:  # the pass has moved on: that tenant is done
            attested += attest(previous, complete=True)
        previous = visit
        for conversation in page:
            # Before the shred: once shredded it leaves the index, and a run stopped in between would
            # never come back to its threading records (Message-IDs can name the visitor's address).
            forget_conversation(tenant.tenant_id, conversation.conversation_id)
            destroyed = shred_closed(tenant.tenant_id, conversation.conversation_id, now, closed_before=visit.cutoff)
            if destroyed is not None:
                visit.shredded[conversation.conversation_id] = destroyed
    if previous is not None:
        attested += attest(previous, complete=sweep.stopped_in != previous.tenant_id)
    return {"tenants": len(visits), "shredded": sum(len(visit.shredded) for visit in visits.values()),
            "attested": attested, "pass_finished": sweep.finished}
