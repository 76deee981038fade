"""The sla-alerts job: conversations waiting in a queue past the tenant's SLA while none of its agents is
online are emailed to the tenant's active admins, at most once per conversation, one digest per admin.

Every queued conversation sits in the due-index under the "sla" shards (conversations/assignment.py
waiting_watch), due at once when it starts waiting. A run queries those shards for what is due (a
fixed 8 queries however many tenants there are, docs/alerts.md) and, per conversation, either moves it
to when it will pass the tenant's SLA, moves it on while an agent is online, or claims it: one update
that sets sla_alerted_at on condition that it is unset and the conversation still queued, and takes it
off the index. Only the run whose claim succeeded emails about it, so racing runs (a duplicated
scheduled event, a manual run) send one email per admin per conversation. A run that claims and then
fails before sending loses that alert: at most once, never twice.
"""
from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Iterable
from datetime import datetime, timedelta

from pynamodb.exceptions import DoesNotExist
from pynamodb.expressions.update import Action

from ..conversations.assignment import WAITING_SHARDS
from ..runtime import runtime
from ..storage.agents import AgentModel
from ..storage.conversations import ConversationModel
from ..storage.helpers import all_shards, refusal_means
from ..storage.settings import Settings
from ..storage.tenants import TenantModel
from ..storage.visitors import VisitorModel
from .digest import Waiting, send_digest

log = logging.getLogger(__name__)
# While an agent is online the queue is theirs to see; a conversation still waiting is looked at again
# this much later (in case everyone has gone by then), not on every run.
RECHECK = timedelta(minutes=5)
OUTCOMES = ("email", "suppressed", "capped_tenant", "capped_address", "none")


def send_sla_alerts() -> dict[str, int]:
    now = runtime().clock.utcnow()
    summary = dict.fromkeys(("due", "alerted", "not_yet", "agents_online", "unwatched", *OUTCOMES), 0)
    by_tenant: dict[str, list[ConversationModel]] = defaultdict(list)
    for conversation in _due_conversations(now):
        by_tenant[conversation.tenant_id].append(conversation)
        summary["due"] += 1
    for tenant_id, conversations in by_tenant.items():
        for outcome, count in _alert_tenant(tenant_id, conversations, now).items():
            summary[outcome] += count
    if summary["due"]:
        log.info("sla-alerts %s", summary)
    return summary


def _due_conversations(now: datetime) -> Iterable[ConversationModel]:
    """The conversations due in the index, read consistently in batches (the index may lag a write)."""
    keys = [(due.tenant_id, due.conversation_id) for due_shard in all_shards(WAITING_SHARDS)
            for due in ConversationModel.due_index.query(due_shard, ConversationModel.due_at <= now)]
    return ConversationModel.batch_get(keys, consistent_read=True) if keys else []


def _alert_tenant(tenant_id: str, conversations: list[ConversationModel], now: datetime) -> dict[str, int]:
    counts: dict[str, int] = defaultdict(int)
    waiting = [c for c in conversations if c.status == "queued" and c.queued_at is not None]
    try:
        tenant = TenantModel.get(tenant_id)
    except DoesNotExist:
        return counts
    settings = Settings.model_validate(tenant.settings)
    overdue: list[ConversationModel] = []
    for conversation in waiting:
        assert conversation.queued_at is not None  # for mypy: filtered above
        passes_sla = conversation.queued_at + timedelta(seconds=settings.sla_first_response_seconds)
        if not settings.sla_alerts_enabled or conversation.sla_alerted_at is not None:
            # Off (turning it on again watches conversations queued from then on), or told already.
            counts["unwatched"] += _watch(conversation, [ConversationModel.due_shard.remove(),
                                                   ConversationModel.due_at.remove()])
        elif passes_sla > now:
            counts["not_yet"] += _watch(conversation, [ConversationModel.due_at.set(passes_sla)])
        else:
            overdue.append(conversation)
    if not overdue:
        return counts
    staff = list(AgentModel.query(tenant_id))
    if any(bool(agent.active) and agent.status == "online" for agent in staff):
        counts["agents_online"] += sum(_watch(c, [ConversationModel.due_at.set(now + RECHECK)]) for c in overdue)
        return counts
    claimed = [c for c in overdue if _claim(c, now)]
    counts["alerted"] += len(claimed)
    if claimed:
        names = _visitor_names(tenant_id, {c.visitor_id for c in claimed})
        listed = [Waiting(c.conversation_id, c.visitor_id, names.get(c.visitor_id), c.queued_at or now)
                  for c in claimed]
        for admin in staff:
            if admin.role == "admin" and admin.active:
                counts[send_digest(tenant, settings, admin, listed, now)] += 1
    return counts


def _watch(conversation: ConversationModel, actions: list[Action]) -> int:
    """Re-time (or end) its watch, unless it left the queue meanwhile: 1 when done."""
    with refusal_means() as refused:
        conversation.update(actions=actions, condition=(ConversationModel.status == "queued")
                            & (ConversationModel.queued_at == conversation.queued_at))
    return 0 if refused else 1


def _claim(conversation: ConversationModel, now: datetime) -> bool:
    """The one write that makes "at most once" hold: the run whose condition passes alerts."""
    with refusal_means() as refused:
        conversation.update(actions=[ConversationModel.sla_alerted_at.set(now), ConversationModel.due_shard.remove(),
                                     ConversationModel.due_at.remove()],
                            condition=ConversationModel.sla_alerted_at.does_not_exist()
                            & (ConversationModel.status == "queued"))
    return not refused


def _visitor_names(tenant_id: str, visitor_ids: set[str]) -> dict[str, str | None]:
    return {visitor.visitor_id: visitor.name
            for visitor in VisitorModel.batch_get([(tenant_id, visitor_id) for visitor_id in visitor_ids],
                                                  attributes_to_get=["visitor_id", "name"])}
