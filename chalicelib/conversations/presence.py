"""An agent's presence: the status they set (coming online takes waiting conversations), and when
they are gone: a grace period after their last connection closes, so a page reload drops no chats;
after it, reroute-stale sets them offline and hands their conversations back."""
from __future__ import annotations

from datetime import datetime, timedelta

from pynamodb.expressions.update import Action

from ..realtime.connections import connection_ids_of
from ..realtime.sender import sender
from ..runtime import runtime
from ..storage.agents import AgentModel
from ..storage.connections import ConnectionModel
from ..storage.helpers import refusal_means, shard
from . import assignment
from .announcements import fill_capacity

GRACE = timedelta(seconds=30)


def set_presence(connection: ConnectionModel, status: str) -> None:
    agent = assignment.set_presence(connection.tenant_id, connection.principal_id, status)
    # Going offline hands conversations back on reroute-stale's next run; anything else cancels that.
    if status == "offline":
        schedule_lapse(agent.tenant_id, agent.agent_id, runtime().clock.utcnow())
    else:
        clear_lapse(agent.tenant_id, agent.agent_id)
    sender().send_all((c for c in connection_ids_of(agent.tenant_id, "agent", agent.agent_id)
                       if c != connection.connection_id),
                      {"type": "presence", "agent_id": agent.agent_id, "status": status})
    if status == "online":
        fill_capacity(agent.tenant_id, agent.agent_id, assignment.tenant_settings(agent.tenant_id))


def schedule_lapse(tenant_id: str, agent_id: str, at: datetime) -> None:
    _update(tenant_id, agent_id, [AgentModel.lapse_shard.set(shard("lapse", agent_id)), AgentModel.lapse_at.set(at)])


def clear_lapse(tenant_id: str, agent_id: str) -> None:
    _update(tenant_id, agent_id, [AgentModel.lapse_shard.remove(), AgentModel.lapse_at.remove()])


def _update(tenant_id: str, agent_id: str, actions: list[Action]) -> None:
    with refusal_means():  # a removed agent has nothing to lapse
        AgentModel(tenant_id, agent_id).update(actions=actions, condition=AgentModel.agent_id.exists())
