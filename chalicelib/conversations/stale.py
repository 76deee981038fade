"""The reroute-stale job: conversations nobody answered in time, and agents who are gone.

Both are found through sparse, sharded indexes ordered by due time (never a scan), and every step is
conditional, so a second run (or a duplicated scheduled event) changes nothing.
"""
from __future__ import annotations

from pynamodb.exceptions import DoesNotExist

from ..realtime.connections import connection_ids_of
from ..runtime import runtime
from ..storage.agents import AgentModel
from ..storage.conversations import ConversationModel
from ..storage.helpers import all_shards
from . import assignment, presence
from .transfers import reroute


def reroute_stale() -> dict[str, int]:
    now = runtime().clock.utcnow()
    summary = {"unanswered_requeued": 0, "agents_gone": 0, "requeued_from_gone_agents": 0}
    for due_shard in all_shards("reply"):
        for due in ConversationModel.due_index.query(due_shard, ConversationModel.due_at <= now):
            conversation = _conversation(due.tenant_id, due.conversation_id)
            if conversation and conversation.status == "assigned" and conversation.first_response_at is None \
                    and reroute(conversation, "no_first_reply"):
                summary["unanswered_requeued"] += 1
    for lapse_shard in all_shards("lapse"):
        for lapsed in AgentModel.lapse_index.query(lapse_shard, AgentModel.lapse_at <= now):
            requeued = hand_back_all(lapsed.tenant_id, lapsed.agent_id)
            if requeued is not None:
                summary["agents_gone"] += 1
                summary["requeued_from_gone_agents"] += requeued
    return summary


def hand_back_all(tenant_id: str, agent_id: str) -> int | None:
    """Set a gone agent offline and re-route what they held; None when they came back."""
    agent = AgentModel.get(tenant_id, agent_id, consistent_read=True)
    presence.clear_lapse(tenant_id, agent_id)
    if agent.active and agent.status == "online" and connection_ids_of(tenant_id, "agent", agent_id):
        return None
    if agent.status != "offline":
        assignment.set_presence(tenant_id, agent_id, "offline")
    held = assignment.conversations_held(tenant_id, agent_id)
    return sum(reroute(conversation, "agent_left") for conversation in held)


def _conversation(tenant_id: str, conversation_id: str) -> ConversationModel | None:
    try:
        return ConversationModel.get(tenant_id, conversation_id, consistent_read=True)
    except DoesNotExist:
        return None
