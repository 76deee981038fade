"""The reconcile-capacity job: each agent's load recomputed from the conversations they hold.

Every change of load happens in the same transaction as the conversation it concerns, so load and
holdings cannot drift apart through our own paths; this job proves it on every run and repairs drift
that comes from elsewhere (a hand edit, a past bug, a roster item a racing presence change left
stale), reporting each repair (its summary, a log line, an audit event on the tenant's chain).

It never races a live assignment into a wrong value: every repair is conditioned on the agent being
exactly as read (load, status, idle_since, updated_at), an agent who took a conversation within the
last minute is left for the next run (held-index, a global index, may not show it yet), and each
conversation the index lists as held is confirmed with a consistent read.
"""
from __future__ import annotations

import logging
from datetime import timedelta

from pynamodb.exceptions import DoesNotExist
from pynamodb.expressions.condition import Condition

from ..audit.trail import record_event, system_actor
from ..runtime import runtime
from ..storage.agents import AgentModel, RosterModel
from ..storage.helpers import refusal_means, transaction
from ..storage.tenants import every_tenant
from . import assignment

log = logging.getLogger("switchboard.reconcile")
JOB = "reconcile-capacity"
# Longer than a global index ever lags behind its table in practice (well under a second).
SETTLE = timedelta(seconds=60)


def reconcile_capacity() -> dict[str, int]:
    now = runtime().clock.utcnow()
    summary = {"agents_checked": 0, "loads_repaired": 0, "rosters_repaired": 0, "left_for_next_run": 0}
    for tenant in every_tenant():
        # Offline agents with nothing held cannot be routed to and hold nothing: no Query for them.
        for agent in AgentModel.query(tenant.tenant_id, consistent_read=True,
                                      filter_condition=(AgentModel.status == "online") | (AgentModel.load != 0)):
            summary["agents_checked"] += 1
            if agent.idle_since is not None and agent.idle_since > now - SETTLE:
                summary["left_for_next_run"] += 1
                continue
            held = _held(agent)
            stale_roster = _roster_differs(agent, held)
            if held == int(agent.load) and not stale_roster:
                continue
            if not _repair(agent, held):
                summary["left_for_next_run"] += 1
                continue
            if held != int(agent.load):
                summary["loads_repaired"] += 1
            summary["rosters_repaired"] += stale_roster
            log.warning("%s: agent %s of tenant %s: load %s -> %s (held), roster %s", JOB, agent.agent_id,
                        agent.tenant_id, int(agent.load), held, "rewritten" if stale_roster else "in step")
            record_event(agent.tenant_id, system_actor(JOB), "capacity.repaired", agent.agent_id,
                         {"load_before": int(agent.load), "load_after": held, "roster_rewritten": stale_roster})
    return summary


def _held(agent: AgentModel) -> int:
    return len(assignment.conversations_held(agent.tenant_id, agent.agent_id))


def _roster_differs(agent: AgentModel, load: int) -> bool:
    """Whether any roster item says otherwise than this agent, at this load, would."""
    expected = assignment.available_sort(agent, load, agent.idle_since)
    for team in assignment.routing_keys(agent):
        try:
            item = RosterModel.get(assignment.team_key(agent.tenant_id, team), agent.agent_id, consistent_read=True)
        except DoesNotExist:
            return True
        if item.available_sort != expected:
            return True
    return False


def _unchanged(agent: AgentModel) -> Condition:
    condition = (AgentModel.load == agent.load) & (AgentModel.status == agent.status) \
        & (AgentModel.updated_at == agent.updated_at)
    unchanged: Condition = condition & (AgentModel.idle_since.does_not_exist() if agent.idle_since is None
                                        else AgentModel.idle_since == agent.idle_since)  # & is untyped
    return unchanged


def _repair(agent: AgentModel, held: int) -> bool:
    """Load and roster set from what is held, only if the agent is still exactly as read."""
    with refusal_means() as refused, transaction() as tx:
        tx.update(agent, actions=[AgentModel.load.set(held)], condition=_unchanged(agent))
        assignment.save_roster(tx, agent, held, agent.idle_since)
    # Refused: it changed meanwhile, and whatever changed it kept load and holdings together.
    return not refused
