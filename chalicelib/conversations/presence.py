"""When an agent is gone: a grace period after their last connection closes, so a page reload
drops no chats; after it, reroute-stale sets them offline and hands their conversations back."""
from __future__ import annotations

from datetime import datetime, timedelta

from pynamodb.exceptions import UpdateError

from ..storage.agents import AgentModel
from ..storage.helpers import condition_failed, shard

GRACE = timedelta(seconds=30)


def schedule_lapse(tenant_id: str, agent_id: str, at: datetime) -> None:
    _update(tenant_id, agent_id, [AgentModel.lapse_shard.set(shard("lapse", agent_id)), AgentModel.lapse_at.set(at)])


def clear_lapse(tenant_id: str, agent_id: str) -> None:
    _update(tenant_id, agent_id, [AgentModel.lapse_shard.remove(), AgentModel.lapse_at.remove()])


def _update(tenant_id: str, agent_id: str, actions: list) -> None:
    try:
        AgentModel(tenant_id, agent_id).update(actions=actions, condition=AgentModel.agent_id.exists())
    except UpdateError as err:
        if not condition_failed(err):  # a removed agent has nothing to lapse
            raise
