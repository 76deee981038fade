"""Tenancy: signup, agents, API keys, settings (logging in and out: auth.py)."""
from __future__ import annotations

import secrets
from datetime import datetime
from typing import Any

from pynamodb.exceptions import DoesNotExist, TransactWriteError, UpdateError

from .. import ratelimit
from ..access.principals import Principal, api_key_token, secret_digest
from ..audit.trail import record_event
from ..clock import iso
from ..errors import Conflict, NotFound
from ..ids import new_id
from ..runtime import runtime
from ..storage.agents import AgentModel, ApiKeyModel, CredentialModel
from ..storage.helpers import cancellation_codes, condition_failed, tenant_page, transaction
from ..storage.settings import Settings
from ..storage.tenants import TenantModel, directory_shard, get_tenant
from ..transcripts.keys import new_tenant_key
from ..visitors.widget_sessions import new_widget_key
from . import revocation
from . import schemas as s
from .passwords import hash_password


def _now() -> datetime:
    return runtime().clock.utcnow()


# --- Tenants ------------------------------------------------------------------------------
def signup(body: s.SignupIn, source_ip: str) -> s.SignupOut:
    rt = runtime()
    ratelimit.enforce("signup-ip", source_ip, rt.config.signup_limit_per_hour, 3600)
    now = _now()
    tenant_id = new_id("t")
    tenant = TenantModel(tenant_id, name=body.name, created_at=now, directory_shard=directory_shard(tenant_id),
                         widget_key=new_widget_key(tenant_id),
                         settings=Settings().model_dump(mode="json"),
                         data_keys=[new_tenant_key(rt, tenant_id, 1)], current_key_version=1)
    admin = _new_agent(tenant_id, s.AgentIn(email=body.admin_email, name="Administrator",
                                            password=body.admin_password, role="admin"), now)
    credential = CredentialModel(tenant_id, body.admin_email, agent_id=admin.agent_id,
                                 password_hash=hash_password(body.admin_password))
    key, api_key = _new_api_key(tenant_id, "Default admin key", "admin", None, now)
    with transaction() as tx:
        tx.save(tenant, condition=TenantModel.tenant_id.does_not_exist())
        tx.save(admin, condition=AgentModel.agent_id.does_not_exist())
        tx.save(credential, condition=CredentialModel.email.does_not_exist())
        tx.save(key, condition=ApiKeyModel.key_id.does_not_exist())
    # The chain's first event; the new admin is the actor (the request came from them).
    record_event(tenant_id, {"kind": "agent", "id": admin.agent_id}, "tenant.created", tenant_id,
                 {"admin_agent_id": admin.agent_id, "api_key_id": key.key_id})
    return s.SignupOut(tenant_id=tenant_id, api_key=api_key, widget_key=tenant.widget_key,
                       admin=s.AgentRef(agent_id=admin.agent_id, email=admin.email))


# --- Who is calling (logging in and out: auth.py) ------------------------------------------
def me(principal: Principal) -> s.MeOut:
    out = s.MeOut(kind=principal.kind, tenant_id=principal.tenant_id, role=principal.role)
    if principal.kind == "agent":
        out.agent = agent_out(get_agent(principal.tenant_id, principal.id))
    elif principal.kind == "api_key":
        out.key_id = principal.id
    else:
        out.visitor_id = principal.id
    return out


# --- Agents -------------------------------------------------------------------------------
def agent_out(agent: AgentModel) -> s.AgentOut:
    return s.AgentOut(agent_id=agent.agent_id, email=agent.email, name=agent.name, role=agent.role,
                      teams=list(agent.teams), max_concurrent=int(agent.max_concurrent),
                      tier=int(agent.tier), active=agent.active, created_at=iso(agent.created_at),
                      updated_at=iso(agent.updated_at))


def _new_agent(tenant_id: str, body: s.AgentIn, now: datetime) -> AgentModel:
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
    agent = _new_agent(principal.tenant_id, body, _now())
    credential = CredentialModel(principal.tenant_id, body.email, agent_id=agent.agent_id,
                                 password_hash=hash_password(body.password))
    try:
        with transaction() as tx:
            tx.save(credential, condition=CredentialModel.email.does_not_exist())
            tx.save(agent, condition=AgentModel.agent_id.does_not_exist())
    except TransactWriteError as err:
        _explain_conflict(err, principal.tenant_id, body.email)
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
    actions.append(AgentModel.updated_at.set(_now()))
    ended_because = _sessions_end_because(agent, changes)
    if ended_because:
        # Power changed: every session the agent had ends (tokens, sockets, the chats they held).
        actions.append(AgentModel.session_version.add(1))
    new_email = changes.get("email") if changes.get("email") not in (None, agent.email) else None
    password_hash = hash_password(changes["password"]) if "password" in changes else None
    try:
        with transaction() as tx:
            tx.update(agent, actions=actions, condition=AgentModel.email == agent.email)
            _rewrite_credential(tx, agent, new_email, password_hash)
    except TransactWriteError as err:
        _explain_conflict(err, principal.tenant_id, new_email)
    # Field names and the new role only: never the password.
    record_event(principal.tenant_id, principal.actor, "agent.updated", agent_id,
                 {"fields": sorted(changes), **({"role": changes["role"]} if "role" in changes else {})})
    updated = get_agent(principal.tenant_id, agent_id)
    if changes.keys() & {"teams", "tier", "max_concurrent", "active"}:
        _resync_routing(updated, agent)
    if ended_because:
        revocation.end_all(updated, ended_because)
    return agent_out(updated)


def _sessions_end_because(agent: AgentModel, changes: dict[str, Any]) -> str | None:
    """The `session.revoked` reason when a change takes power away, else None."""
    if agent.active and changes.get("active") is False:
        return "deactivated"
    if changes.get("role", agent.role) != agent.role:
        return "role_changed"
    return "password_changed" if "password" in changes else None


def _resync_routing(agent: AgentModel, before: AgentModel) -> None:
    from ..conversations.assignment import resync_roster, routing_keys  # deferred: routing is not auth

    resync_roster(agent, routing_keys(before))


def _explain_conflict(err: TransactWriteError, tenant_id: str, email: str | None) -> None:
    """Name why a transaction was cancelled (pynamodb reorders items, so ask the table)."""
    if "ConditionalCheckFailed" not in cancellation_codes(err):
        raise err
    if email and CredentialModel.count(tenant_id, CredentialModel.email == email, limit=1):
        raise Conflict("An agent with this email already exists.", code="email_taken") from None
    raise Conflict("The agent changed meanwhile; try again.") from None


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
    # History is kept; every session of this agent ends at once, and routing stops.
    agent.update(actions=[AgentModel.active.set(False), AgentModel.session_version.add(1),
                          AgentModel.updated_at.set(_now())])
    record_event(principal.tenant_id, principal.actor, "agent.deactivated", agent_id)
    _resync_routing(agent, agent)
    revocation.end_all(agent, "deactivated")


# --- API keys -----------------------------------------------------------------------------
def _new_api_key(tenant_id: str, name: str, role: str, created_by: str | None,
                 now: datetime) -> tuple[ApiKeyModel, str]:
    key_id, secret = new_id("key"), secrets.token_urlsafe(32)  # 256 bits
    record = ApiKeyModel(tenant_id, key_id, name=name, role=role, secret_sha256=secret_digest(secret),
                         created_at=now, created_by=created_by)
    return record, api_key_token(tenant_id, key_id, secret)


def api_key_out(key: ApiKeyModel) -> s.ApiKeyOut:
    return s.ApiKeyOut(key_id=key.key_id, name=key.name, role=key.role, created_at=iso(key.created_at),
                       revoked_at=iso(key.revoked_at) if key.revoked_at else None)


def create_api_key(principal: Principal, body: s.ApiKeyIn) -> s.ApiKeyCreated:
    record, token = _new_api_key(principal.tenant_id, body.name, body.role, principal.id, _now())
    record.save(condition=ApiKeyModel.key_id.does_not_exist())
    record_event(principal.tenant_id, principal.actor, "api_key.created", record.key_id, {"role": record.role})
    return s.ApiKeyCreated(**api_key_out(record).model_dump(), api_key=token)


def list_api_keys(principal: Principal, cursor: str | None) -> s.ApiKeyList:
    keys, next_cursor = tenant_page(ApiKeyModel, principal.tenant_id, cursor)
    return s.ApiKeyList(items=[api_key_out(key) for key in keys], next_cursor=next_cursor)


def revoke_api_key(principal: Principal, key_id: str) -> None:
    try:
        ApiKeyModel(principal.tenant_id, key_id).update(
            actions=[ApiKeyModel.revoked_at.set(_now())],
            condition=ApiKeyModel.key_id.exists() & ApiKeyModel.revoked_at.does_not_exist())
        record_event(principal.tenant_id, principal.actor, "api_key.revoked", key_id)
    except UpdateError as err:
        if not condition_failed(err):
            raise
        # Either it never existed (404) or it is already revoked (revoking is idempotent).
        try:
            ApiKeyModel.get(principal.tenant_id, key_id, consistent_read=True)
        except DoesNotExist:
            raise NotFound("No such API key.") from None


# --- Settings -----------------------------------------------------------------------------
def get_settings(principal: Principal) -> Settings:
    return Settings.model_validate(get_tenant(principal.tenant_id).settings)


def update_settings(principal: Principal, patch: s.SettingsPatch) -> Settings:
    # Optimistic: re-read and retry if another writer changed the settings in between.
    for _ in range(5):
        tenant = get_tenant(principal.tenant_id)
        current = Settings.model_validate(tenant.settings)
        merged = Settings.model_validate({**current.model_dump(mode="json"),
                                            **patch.model_dump(mode="json", exclude_unset=True)})
        try:
            tenant.update(actions=[TenantModel.settings.set(merged.model_dump(mode="json"))],
                          condition=TenantModel.settings == tenant.settings)
        except UpdateError as err:
            if condition_failed(err):
                continue
            raise
        changed = sorted(name for name, value in merged.model_dump(mode="json").items()
                         if current.model_dump(mode="json").get(name) != value)
        record_event(principal.tenant_id, principal.actor, "settings.updated", principal.tenant_id,
                     {"fields": changed})
        return merged
    raise Conflict("Settings are being changed by someone else; try again.")

