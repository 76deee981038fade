"""REST routes for tenants, auth, agents, API keys, settings and rotating the widget key and identity secret."""
from __future__ import annotations

from typing import TYPE_CHECKING

from chalice import Blueprint

from ..access.roles import ADMIN, STAFF, SUPERVISOR_UP
from ..lazy import lazy_module, lazy_modules
from ..web.routing import ANY_TOKEN, PUBLIC, Call, PublicCall, endpoint

if TYPE_CHECKING:
    from ..storage import settings as stored_settings
    from ..web import schemas as web_schemas
    from . import agents, api_keys, auth, identity, settings, tenants
    from . import schemas as s
else:  # loaded by the first request that needs them (see chalicelib/lazy.py); the schemas too:
    # the handlers' annotations name the models, read on a route's first call (chalicelib/web/routing.py)
    s, agents, api_keys, auth, identity, settings, tenants = lazy_modules(
        __package__, "schemas", "agents", "api_keys", "auth", "identity", "settings", "tenants")
    stored_settings = lazy_module("chalicelib.storage.settings")
    web_schemas = lazy_module("chalicelib.web.schemas")

bp = Blueprint(__name__)
TAG = "tenancy"


@endpoint(bp, "POST", "/v1/tenants", summary="Sign up a tenant with its first admin", tag=TAG,
          auth=PUBLIC, status=201, errors=(429,))
def signup(call: PublicCall[s.SignupIn]) -> s.SignupOut:
    return tenants.signup(call.body, call.source_ip)


@endpoint(bp, "POST", "/v1/auth/login", summary="Log in as an agent (403 sso_required: the tenant is SSO-only)",
          tag=TAG, auth=PUBLIC, errors=(401, 403, 429))
def login(call: PublicCall[s.LoginIn]) -> s.LoginOut:
    return auth.login(call.body, call.source_ip)


@endpoint(bp, "POST", "/v1/auth/refresh", summary="A fresh token of the same session (never past its end)",
          tag=TAG, auth=STAFF, during_enrolment=True)
def refresh(call: Call[None]) -> s.RefreshOut:
    return auth.refresh(call.principal)


@endpoint(bp, "POST", "/v1/auth/logout", summary="End this session: its tokens and sockets; other logins go on",
          tag=TAG, auth=STAFF, status=204, during_enrolment=True)
def logout(call: Call[None]) -> None:
    auth.logout(call.principal)


@endpoint(bp, "GET", "/v1/me", summary="Who the token belongs to", tag=TAG, auth=ANY_TOKEN, during_enrolment=True)
def me(call: Call[None]) -> s.MeOut:
    return auth.me(call.principal)


@endpoint(bp, "PATCH", "/v1/me", summary="Change your own preferences (an agent's console language)", tag=TAG,
          auth=STAFF, errors=(403,))
def update_me(call: Call[s.MePatch]) -> s.MeOut:
    return auth.update_me(call.principal, call.body)


@endpoint(bp, "POST", "/v1/agents", summary="Add an agent", tag=TAG, auth=ADMIN, status=201, errors=(409,))
def create_agent(call: Call[s.AgentIn]) -> s.AgentOut:
    return agents.create_agent(call.principal, call.body)


@endpoint(bp, "GET", "/v1/agents", summary="List agents", tag=TAG, auth=SUPERVISOR_UP)
def list_agents(call: Call[None, web_schemas.PageQuery]) -> s.AgentList:
    return agents.list_agents(call.principal, call.query.cursor)


@endpoint(bp, "PATCH", "/v1/agents/{agent_id}", summary="Change an agent", tag=TAG, auth=ADMIN, errors=(404, 409))
def update_agent(call: Call[s.AgentPatch], agent_id: str) -> s.AgentOut:
    return agents.update_agent(call.principal, agent_id, call.body)


@endpoint(bp, "DELETE", "/v1/agents/{agent_id}", summary="Deactivate an agent (history kept)",
          tag=TAG, auth=ADMIN, status=204, errors=(404, 409))
def deactivate_agent(call: Call[None], agent_id: str) -> None:
    agents.deactivate_agent(call.principal, agent_id)


@endpoint(bp, "POST", "/v1/api-keys", summary="Create an API key (shown once)", tag=TAG,
          auth=ADMIN, status=201)
def create_api_key(call: Call[s.ApiKeyIn]) -> s.ApiKeyCreated:
    return api_keys.create_api_key(call.principal, call.body)


@endpoint(bp, "GET", "/v1/api-keys", summary="List API keys (never their secrets)", tag=TAG,
          auth=ADMIN)
def list_api_keys(call: Call[None, web_schemas.PageQuery]) -> s.ApiKeyList:
    return api_keys.list_api_keys(call.principal, call.query.cursor)


@endpoint(bp, "DELETE", "/v1/api-keys/{key_id}", summary="Revoke an API key", tag=TAG,
          auth=ADMIN, status=204, errors=(404,))
def revoke_api_key(call: Call[None], key_id: str) -> None:
    api_keys.revoke_api_key(call.principal, key_id)


@endpoint(bp, "GET", "/v1/settings", summary="The tenant's settings", tag=TAG, auth=ADMIN)
def get_settings(call: Call[None]) -> stored_settings.Settings:
    return settings.get_settings(call.principal)


@endpoint(bp, "PUT", "/v1/settings", summary="Change any subset of the settings", tag=TAG,
          auth=ADMIN, errors=(409,))
def put_settings(call: Call[s.SettingsPatch]) -> stored_settings.Settings:
    return settings.update_settings(call.principal, call.body)


@endpoint(bp, "POST", "/v1/identity-secret",
          summary="Rotate the identity-verification secret (shown once; the old one stops verifying)",
          tag=TAG, auth=ADMIN, errors=(409,))
def rotate_identity_secret(call: Call[None]) -> s.IdentitySecretOut:
    return identity.rotate_identity_secret(call.principal)


@endpoint(bp, "POST", "/v1/widget-key", summary="Rotate the widget key (the old one stops working at once)",
          tag=TAG, auth=ADMIN)
def rotate_widget_key(call: Call[None]) -> s.WidgetKeyOut:
    return identity.rotate_widget_key(call.principal)
