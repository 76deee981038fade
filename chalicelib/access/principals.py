"""Who is calling: an agent (session token), an API key, or a visitor (widget token)."""
from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass
from typing import Any, Literal

from pynamodb.exceptions import DoesNotExist

from ..errors import Forbidden, Unauthorized
from ..storage.agents import AgentModel, ApiKeyModel
from .sessions import Session, live
from .tokens import signer

API_KEY_PREFIX = "sbk"
Actor = dict[str, str]


def actor(kind: str, id: str) -> Actor:
    """Who did something, as audit events and frames name them: a principal, a job, a source."""
    return {"kind": kind, "id": id}


@dataclass(frozen=True)
class Principal:
    kind: Literal["agent", "api_key", "visitor"]
    tenant_id: str
    id: str
    role: str | None = None
    name: str | None = None
    session: Session | None = None  # an agent's: the login their token belongs to

    @property
    def actor(self) -> Actor:
        return actor(self.kind, self.id)


def api_key_token(tenant_id: str, key_id: str, secret: str) -> str:
    # The tenant and key id travel inside the key, so finding it is one GetItem.
    return f"{API_KEY_PREFIX}.{tenant_id}.{key_id}.{secret}"


def secret_digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def authenticate(header: str | None, allowed: str | frozenset[str]) -> Principal:
    """Resolve the Authorization header, then check the principal may use the route."""
    scheme, _, token = (header or "").partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Unauthorized("Missing bearer token.")
    principal = principal_from_token(token.strip(), allow_visitor=not isinstance(allowed, frozenset))
    if isinstance(allowed, frozenset) and principal.role not in allowed:
        raise Forbidden("Your role may not do this.")
    return principal


def principal_from_token(token: str, *, allow_visitor: bool) -> Principal:
    if token.startswith(API_KEY_PREFIX + "."):
        return _api_key_principal(token)
    claims = signer().verify(token, ("agent", "visitor"))
    if claims["aud"] == "visitor":
        if not allow_visitor:
            raise Forbidden("Visitors may not do this.")
        return Principal("visitor", claims["tid"], claims["sub"])
    return _agent_principal(claims)


def _agent_principal(claims: dict[str, Any]) -> Principal:
    """Two GetItems: the agent, then the session (access/sessions.py)."""
    try:
        agent = AgentModel.get(claims["tid"], claims["sub"], consistent_read=True)
    except DoesNotExist:
        raise Unauthorized("Invalid or expired token.") from None
    # Deactivation, a password change or a role change bumps session_version: every session dies.
    if not agent.active or agent.session_version != claims.get("sv"):
        raise Unauthorized("Invalid or expired token.")
    session = live(agent.tenant_id, claims.get("sid"), agent)  # logged out, or past its absolute end
    if session is None:
        raise Unauthorized("Invalid or expired token.")
    return Principal("agent", agent.tenant_id, agent.agent_id, agent.role, agent.name, session)


def _api_key_principal(token: str) -> Principal:
    parts = token.split(".")
    if len(parts) != 4:
        raise Unauthorized("Invalid API key.")
    _, tenant_id, key_id, secret = parts
    # Ids we issue are short ASCII words; an empty or overlong key would make DynamoDB refuse the read.
    if not secret or not all(0 < len(part) <= 64 and part.isascii()
                             and part.replace("_", "a").replace("-", "a").isalnum()
                             for part in (tenant_id, key_id)):
        raise Unauthorized("Invalid API key.")
    try:
        key = ApiKeyModel.get(tenant_id, key_id, consistent_read=True)
    except DoesNotExist:
        raise Unauthorized("Invalid API key.") from None
    if key.revoked_at is not None or not hmac.compare_digest(key.secret_sha256, secret_digest(secret)):
        raise Unauthorized("Invalid API key.")
    return Principal("api_key", tenant_id, key_id, key.role, key.name)
