"""Agents: adding, listing, changing and deactivating them; a change that takes power away ends
every session the agent has (revocation.py), and one that changes how they are routed resyncs them."""
from __future__ import annotations

from datetime import datetime
from typing import Any

from pynamodb.exceptions import DoesNotExist

from ..access.principals import Principal
from ..audit.trail import record_event
from ..clock import iso
from ..conversations.assignment import resync_roster, routing_keys
from ..errors import Conflict, NotFound
from ..ids import new_id
from ..runtime import runtime
from ..storage.agents import AgentModel, CredentialModel
from ..storage.helpers import refusal_means, tenant_page, transaction
from . import revocation
from . import schemas as s
from .passwords import hash_password


def agent_out(agent: AgentModel) -> s.AgentOut:
    return s.AgentOut(agent_id=agent.agent_id, email=agent.email, name=agent.name, role=agent.role,
                      teams=list(agent.teams), max_concurrent=int(agent.max_concurrent),
                      tier=int(agent.tier), active=agent.active,
                      status=agent.status if agent.active else "offline", load=int(agent.load),
                      created_at=iso(agent.created_at),
                      updated_at=iso(agent.updated_at))


def new_agent(tenant_id: str, body: s.AgentIn, now: datetime) -> AgentModel:
    return AgentModel(tenant_id, new_id("a"), email=body.email, name=body.name, role=body.role,
                      teams=list(body.teams), max_concurrent=body.max_concurrent, tier=body.tier,
                      active=True, session_version=1, created_at=now, updated_at=now)


def find_agent(tenant_id: str, agent_id: str) -> AgentModel | None:
    try:
        return AgentModel.get(tenant_id, agent_id, consistent_read=True)
    except DoesNotExist:
        return None


def get_agent(tenant_id: str, agent_id: str) -> AgentModel:
    agent = find_agent(tenant_id, agent_id)
    if agent is None:
        raise NotFound("No such agent.")
    return agent


def create_agent(principal: Principal, body: s.AgentIn) -> s.AgentOut:
    agent = new_agent(principal.tenant_id, body, runtime().clock.utcnow())
    credential = CredentialModel(principal.tenant_id, body.email, agent_id=agent.agent_id,
                                 password_hash=hash_password(body.password))
    with refusal_means() as refused, transaction() as tx:
        tx.save(credential, condition=CredentialModel.email.does_not_exist())
        tx.save(agent, condition=AgentModel.agent_id.does_not_exist())
    if refused:
        raise _conflict(principal.tenant_id, body.email)
    record_event(principal.tenant_id, principal.actor, "agent.created", agent.agent_id,
                 {"role": agent.role, "teams": list(agent.teams)})
    return agent_out(agent)


def list_agents(principal: Principal, cursor: str | None) -> s.AgentList:
    agents, next_cursor = tenant_page(AgentModel, principal.tenant_id, cursor)
    return s.AgentList(items=[agent_out(agent) for agent in agents], next_cursor=next_cursor)


def update_agent(principal: Principal, agent_id: str, patch: s.AgentPatch) -> s.AgentOut:
    agent = get_agent(principal.tenant_id, agent_id)
    changes = patch.model_dump(exclude_unset=True)
    if agent_id == principal.id and "role" in changes and changes["role"] != agent.role:
        raise Conflict("You cannot change your own role.", code="self_change")
    if agent_id == principal.id and changes.get("active") is False:
        raise Conflict("You cannot deactivate yourself.", code="self_change")
    if not changes:
        return agent_out(agent)
    actions = [getattr(AgentModel, name).set(value) for name, value in changes.items()
               if name not in ("password",)]
    actions.append(AgentModel.updated_at.set(runtime().clock.utcnow()))
    ended_because = _sessions_end_because(agent, changes)
    if ended_because:
        # Power changed: every session the agent had ends (tokens, sockets, the chats they held).
        actions.append(AgentModel.session_version.add(1))
    new_email = changes.get("email") if changes.get("email") not in (None, agent.email) else None
    password_hash = hash_password(changes["password"]) if "password" in changes else None
    # The agent as read, or nothing: a deactivation or reactivation meanwhile makes this one lose (409).
    unchanged = (AgentModel.email == agent.email) & (AgentModel.active == agent.active)
    with refusal_means() as refused, transaction() as tx:
        tx.update(agent, actions=actions, condition=unchanged)
        _rewrite_credential(tx, agent, new_email, password_hash)
    if refused:
        raise _conflict(principal.tenant_id, new_email)
    # Field names and the new role only: never the password.
    record_event(principal.tenant_id, principal.actor, _update_action(agent, changes), agent_id,
                 {"fields": sorted(changes), **({"role": changes["role"]} if "role" in changes else {})})
    updated = get_agent(principal.tenant_id, agent_id)
    if changes.keys() & {"teams", "tier", "max_concurrent", "active"}:
        _resync_routing(updated, agent)
    if ended_because:
        revocation.end_all(updated, ended_because)
    return agent_out(updated)


def _update_action(agent: AgentModel, changes: dict[str, Any]) -> str:
    """The audit action of a change: switching `active` over is a (de)activation, the rest an update."""
    if changes.get("active", agent.active) != agent.active:
        return "agent.reactivated" if changes["active"] else "agent.deactivated"
    return "agent.updated"


def _sessions_end_because(agent: AgentModel, changes: dict[str, Any]) -> str | None:
    """The `session.revoked` reason when a change takes power away, else None."""
    if agent.active and changes.get("active") is False:
        return "deactivated"
    if changes.get("role", agent.role) != agent.role:
        return "role_changed"
    return "password_changed" if "password" in changes else None


def _resync_routing(agent: AgentModel, before: AgentModel) -> None:
    resync_roster(agent, routing_keys(before))


def _conflict(tenant_id: str, email: str | None) -> Conflict:
    """Why a condition refused the transaction (pynamodb reorders items, so ask the table)."""
    if email and CredentialModel.count(tenant_id, CredentialModel.email == email, limit=1):
        return Conflict("An agent with this email already exists.", code="email_taken")
    return Conflict("The agent changed meanwhile; try again.")


def _rewrite_credential(tx: Any, agent: AgentModel, new_email: str | None,
                        password_hash: str | None) -> None:
    current = CredentialModel.get(agent.tenant_id, agent.email, consistent_read=True)
    if new_email:
        tx.delete(current, condition=CredentialModel.agent_id == agent.agent_id)
        tx.save(CredentialModel(agent.tenant_id, new_email, agent_id=agent.agent_id,
                                password_hash=password_hash or current.password_hash),
                condition=CredentialModel.email.does_not_exist())
    elif password_hash:
        tx.update(current, actions=[CredentialModel.password_hash.set(password_hash)],
                  condition=CredentialModel.agent_id == agent.agent_id)


def deactivate_agent(principal: Principal, agent_id: str) -> None:
    if agent_id == principal.id:
        raise Conflict("You cannot deactivate yourself.", code="self_change")
    agent = get_agent(principal.tenant_id, agent_id)
    if not agent.active:
        return
    # History is kept; every session of this agent ends at once, and routing stops. Only the request
    # that switches it off does so (and is audited): one racing it finds the work done.
    with refusal_means() as refused:
        agent.update(actions=[AgentModel.active.set(False), AgentModel.session_version.add(1),
                              AgentModel.updated_at.set(runtime().clock.utcnow())],
                     condition=AgentModel.active == True)  # noqa: E712 (a condition expression, not a test)
    if refused:
        return
    record_event(principal.tenant_id, principal.actor, "agent.deactivated", agent_id)
    _resync_routing(agent, agent)
    revocation.end_all(agent, "deactivated")
