"""Agent sessions: one per login. A session ends by logout, at its absolute end, or together with
every other session of its agent when their power changes (deactivation, role, password).

An agent token carries its session id (`sid`) and the agent's session_version (`sv`) at login. REST
auth of one is two GetItems (access/principals.py): the agent (active, role, session_version still
`sv`) and the session (exists, not past its end). Bumping session_version ends every session of the
agent at once without touching each; deleting the session item ends one. A refresh keeps the session,
so its tokens never outlive the session's absolute end (SWITCHBOARD_AGENT_SESSION_MAX_SECONDS).
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime

from pynamodb.exceptions import DoesNotExist

from ..ids import new_id
from ..runtime import runtime
from ..storage.agents import AgentModel, AgentSessionModel
from .tokens import IssuedToken, signer

_SESSION_ID = re.compile(r"^s_[0-9a-v]{1,40}$")


@dataclass(frozen=True)
class Session:
    id: str
    version: int  # the agent's session_version when it began
    ends_at: float  # epoch seconds: no token of it is valid after this
    enrolment_only: bool = False  # owes two-factor enrolment: every other route is 403


def start(agent: AgentModel, *, enrolment_only: bool = False) -> Session:
    rt = runtime()
    ends_at = int(rt.clock.now()) + rt.config.agent_session_max_seconds  # whole seconds, as a token's exp
    session = Session(new_id("s"), int(agent.session_version), ends_at, enrolment_only)
    AgentSessionModel(agent.tenant_id, session.id, agent_id=agent.agent_id, created_at=rt.clock.utcnow(),
                      expires_at=datetime.fromtimestamp(session.ends_at, tz=UTC),
                      enrolment_only=enrolment_only or None).save(
        condition=AgentSessionModel.session_id.does_not_exist())
    return session


def live(tenant_id: str, session_id: object, agent: AgentModel) -> Session | None:
    """The session if it is this agent's, not logged out, not past its end, and not ended by a
    change to the agent since it began; one consistent GetItem."""
    if not isinstance(session_id, str) or not _SESSION_ID.match(session_id):
        return None
    try:
        record = AgentSessionModel.get(tenant_id, session_id, consistent_read=True)
    except DoesNotExist:
        return None
    ends_at = record.expires_at.timestamp()
    if record.agent_id != agent.agent_id or ends_at <= runtime().clock.now():
        return None
    return Session(record.session_id, int(agent.session_version), ends_at, bool(record.enrolment_only))


def lift_enrolment_only(tenant_id: str, session_id: str) -> None:
    """The session's agent has just enrolled: from now on it is a full session (same tokens)."""
    AgentSessionModel(tenant_id, session_id).update(actions=[AgentSessionModel.enrolment_only.remove()],
                                                   condition=AgentSessionModel.session_id.exists())


def issue_token(tenant_id: str, agent_id: str, session: Session) -> IssuedToken:
    rt = runtime()
    ttl = min(rt.config.agent_token_ttl_seconds, int(session.ends_at) - int(rt.clock.now()))
    return signer().issue("agent", tenant_id, agent_id, ttl, sv=session.version, sid=session.id)
