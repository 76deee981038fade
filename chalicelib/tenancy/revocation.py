"""Ending agent sessions: one by logout, or every one of an agent when their power changes
(deactivation, deletion, role, password). Their sockets are told why and closed, and their chats go
back to the queue (access/sessions.py says how a session is checked).
"""
from __future__ import annotations

from ..conversations import assignment, stale
from ..conversations.presence import schedule_lapse
from ..realtime.connections import connection_ids_of, of_session
from ..realtime.sender import sender
from ..runtime import runtime
from ..storage.agents import AgentModel, AgentSessionModel


def end(tenant_id: str, agent_id: str, session_id: str) -> None:
    """Logout: this session's tokens stop working and its sockets close; the agent's other
    sessions go on. When no socket of the agent is left, their chats are handed back as when
    they go offline."""
    AgentSessionModel(tenant_id, session_id).delete()
    # Read once, before closing: the index would still list the closed ones for a moment.
    every = connection_ids_of(tenant_id, "agent", agent_id)
    ending = of_session(every, session_id)
    _close(ending, "logged_out")
    if set(every) <= set(ending):
        schedule_lapse(tenant_id, agent_id, runtime().clock.utcnow())


def end_all(agent: AgentModel, reason: str) -> None:
    """After the caller committed a change that bumped the agent's session_version (so no token and no
    role-dependent frame of theirs is honoured any more): their sockets are told and closed, they go
    offline, and every conversation they held goes back to the queue, routed to others."""
    _close(connection_ids_of(agent.tenant_id, "agent", agent.agent_id), reason)
    # Offline first: reroute-stale's hand-back then never takes a socket that is still closing for a return.
    assignment.set_presence(agent.tenant_id, agent.agent_id, "offline")
    stale.hand_back_all(agent.tenant_id, agent.agent_id)


def _close(connection_ids: list[str], reason: str) -> None:
    for connection_id in connection_ids:
        sender().revoke(connection_id, reason)
