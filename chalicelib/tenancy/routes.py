"""REST routes for tenants, auth, agents, API keys, settings and rotating the widget key and identity secret."""
from __future__ import annotations

from typing import TYPE_CHECKING

from chalice import Blueprint

from ..access.roles import ADMIN, STAFF, SUPERVISOR_UP
from ..lazy import lazy_modules
from ..storage.settings import Settings
from ..web.routing import ANY_TOKEN, PUBLIC, Call, PublicCall, endpoint
from ..web.schemas import PageQuery
from . import schemas as s

if TYPE_CHECKING:
    from . import agents, api_keys, auth, identity, settings, tenants
else:  # loaded by the first request that needs them (see chalicelib/lazy.py)
    agents, api_keys, auth, identity, settings, tenants = lazy_modules(
        __package__, "agents", "api_keys", "auth", "identity", "settings", "tenants")

bp = Blueprint(__name__)
TAG = "tenancy"


@endpoint(bp, "POST", "/v1/tenants", summary="Sign up a tenant with its first admin", tag=TAG,
          auth=PUBLIC, body=s.SignupIn, response=s.SignupOut, status=201, errors=(429,))
def signup(call: PublicCall[s.SignupIn]) -> s.SignupOut:
    return tenants.signup(call.body, call.source_ip)


@endpoint(bp, "POST", "/v1/auth/login", summary="Log in as an agent", tag=TAG, auth=PUBLIC,
          body=s.LoginIn, response=s.LoginOut, errors=(401, 429))
def login(call: PublicCall[s.LoginIn]) -> s.LoginOut:
    return auth.login(call.body, call.source_ip)


@endpoint(bp, "POST", "/v1/auth/refresh", summary="A fresh token of the same session (never past its end)",
          tag=TAG, auth=STAFF, response=s.RefreshOut)
def refresh(call: Call[None]) -> s.RefreshOut:
    return auth.refresh(call.principal)


@endpoint(bp, "POST", "/v1/auth/logout", summary="End this session: its tokens and sockets; other logins go on",
          tag=TAG, auth=STAFF, status=204)
def logout(call: Call[None]) -> None:
    auth.logout(call.principal)


@endpoint(bp, "GET", "/v1/me", summary="Who the token belongs to", tag=TAG, auth=ANY_TOKEN,
          response=s.MeOut)
def me(call: Call[None]) -> s.MeOut:
    return auth.me(call.principal)


@endpoint(bp, "POST", "/v1/agents", summary="Add an agent", tag=TAG, auth=ADMIN,
          body=s.AgentIn, response=s.AgentOut, status=201, errors=(409,))
def create_agent(call: Call[s.AgentIn]) -> s.AgentOut:
    return agents.create_agent(call.principal, call.body)


@endpoint(bp, "GET", "/v1/agents", summary="List agents", tag=TAG, auth=SUPERVISOR_UP,
          query=PageQuery, response=s.AgentList)
def list_agents(call: Call[None, PageQuery]) -> s.AgentList:
    return agents.list_agents(call.principal, call.query.cursor)


@endpoint(bp, "PATCH", "/v1/agents/{agent_id}", summary="Change an agent", tag=TAG, auth=ADMIN,
          body=s.AgentPatch, response=s.AgentOut, errors=(404, 409))
def update_agent(call: Call[s.AgentPatch], agent_id: str) -> s.AgentOut:
    return agents.update_agent(call.principal, agent_id, call.body)


@endpoint(bp, "DELETE", "/v1/agents/{agent_id}", summary="Deactivate an agent (history kept)",
          tag=TAG, auth=ADMIN, status=204, errors=(404, 409))
def deactivate_agent(call: Call[None], agent_id: str) -> None:
    agents.deactivate_agent(call.principal, agent_id)


@endpoint(bp, "POST", "/v1/api-keys", summary="Create an API key (shown once)", tag=TAG,
          auth=ADMIN, body=s.ApiKeyIn, response=s.ApiKeyCreated, status=201)
def create_api_key(call: Call[s.ApiKeyIn]) -> s.ApiKeyCreated:
    return api_keys.create_api_key(call.principal, call.body)


@endpoint(bp, "GET", "/v1/api-keys", summary="List API keys (never their secrets)", tag=TAG,
          auth=ADMIN, query=PageQuery, response=s.ApiKeyList)
def list_api_keys(call: Call[None, PageQuery]) -> s.ApiKeyList:
    return api_keys.list_api_keys(call.principal, call.query.cursor)


@endpoint(bp, "DELETE", "/v1/api-keys/{key_id}", summary="Revoke an API key", tag=TAG,
          auth=ADMIN, status=204, errors=(404,))
def revoke_api_key(call: Call[None], key_id: str) -> None:
    api_keys.revoke_api_key(call.principal, key_id)


@endpoint(bp, "GET", "/v1/settings", summary="The tenant's settings", tag=TAG, auth=ADMIN,
          response=Settings)
def get_settings(call: Call[None]) -> Settings:
    return settings.get_settings(call.principal)


@endpoint(bp, "PUT", "/v1/settings", summary="Change any subset of the settings", tag=TAG,
          auth=ADMIN, body=s.SettingsPatch, response=Settings, errors=(409,))
def put_settings(call: Call[s.SettingsPatch]) -> Settings:
    return settings.update_settings(call.principal, call.body)


@endpoint(bp, "POST", "/v1/identity-secret",
          summary="Rotate the identity-verification secret (shown once; the old one stops verifying)",
          tag=TAG, auth=ADMIN, response=s.IdentitySecretOut, errors=(409,))
def rotate_identity_secret(call: Call[None]) -> s.IdentitySecretOut:
    return identity.rotate_identity_secret(call.principal)


@endpoint(bp, "POST", "/v1/widget-key", summary="Rotate the widget key (the old one stops working at once)",
          tag=TAG, auth=ADMIN, response=s.WidgetKeyOut)
def rotate_widget_key(call: Call[None]) -> s.WidgetKeyOut:
    return identity.rotate_widget_key(call.principal)
