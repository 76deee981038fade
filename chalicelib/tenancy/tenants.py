"""Signing up: a tenant, its first admin (agent and credential) and a first admin API key, in one
transaction; the tenant's audit chain starts with it."""
from __future__ import annotations

from .. import ratelimit
from ..access.principals import actor
from ..audit.trail import record_event
from ..ids import new_id
from ..runtime import runtime
from ..storage.agents import AgentModel, ApiKeyModel, CredentialModel
from ..storage.helpers import transaction
from ..storage.settings import Settings
from ..storage.tenants import TenantModel, directory_shard
from ..transcripts.keys import new_tenant_key
from ..visitors.widget_sessions import new_widget_key
from . import schemas as s
from .agents import new_agent
from .api_keys import new_api_key
from .passwords import hash_password


def signup(body: s.SignupIn, source_ip: str) -> s.SignupOut:
    rt = runtime()
    ratelimit.enforce("signup-ip", source_ip, rt.config.signup_limit_per_hour, 3600)
    now = rt.clock.utcnow()
    tenant_id = new_id("t")
    tenant = TenantModel(tenant_id, name=body.name, created_at=now, directory_shard=directory_shard(tenant_id),
                         widget_key=new_widget_key(tenant_id),
                         settings=Settings().model_dump(mode="json"),
                         data_keys=[new_tenant_key(rt, tenant_id, 1)], current_key_version=1)
    admin = new_agent(tenant_id, s.AgentIn(email=body.admin_email, name="Administrator",
                                           password=body.admin_password, role="admin"), now)
    credential = CredentialModel(tenant_id, body.admin_email, agent_id=admin.agent_id,
                                 password_hash=hash_password(body.admin_password))
    key, api_key = new_api_key(tenant_id, "Default admin key", "admin", None, now)
    with transaction() as tx:
        tx.save(tenant, condition=TenantModel.tenant_id.does_not_exist())
        tx.save(admin, condition=AgentModel.agent_id.does_not_exist())
        tx.save(credential, condition=CredentialModel.email.does_not_exist())
        tx.save(key, condition=ApiKeyModel.key_id.does_not_exist())
    # The chain's first event; the new admin is the actor (the request came from them).
    record_event(tenant_id, actor("agent", admin.agent_id), "tenant.created", tenant_id,
                 {"admin_agent_id": admin.agent_id, "api_key_id": key.key_id})
    return s.SignupOut(tenant_id=tenant_id, api_key=api_key, widget_key=tenant.widget_key,
                       admin=s.AgentRef(agent_id=admin.agent_id, email=admin.email))
