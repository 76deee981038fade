"""Signing in with the tenant's OpenID issuer: the authorization code flow with PKCE (S256), state and nonce.

  start     GET  /v1/auth/sso/start?tenant_id=   a state item (nonce, PKCE verifier; 10 minutes); 302 to the issuer
  callback  GET  /v1/auth/sso/callback?code&state  the state consumed once; the code exchanged with the client
                                                   secret and verifier; the ID token verified; the agent matched by
                                                   verified email; a one-time code (1 minute); 302 to /app#sso=CODE
  redeem    POST /v1/auth/sso/redeem {code}       the code consumed once; a session, as POST /v1/auth/login answers

Start sets a cookie (HttpOnly, SameSite=Lax, scoped to the callback's path) whose SHA-256 the state item keeps:
the callback must come from the browser that started (no login CSRF). The session token never travels in a
URL, only the one-time code does (in the fragment, which browsers do not
send on). State and codes are "<tenant_id>.<random>": the tenant keys the item, and only the random part's SHA-256
is stored. Every failure ends at the console as /app#sso_error=REASON and, for a tenant with SSO registered, as
one `auth.sso_failed` audit event naming the reason (never token content).
"""
from __future__ import annotations

import base64
import hashlib
import logging
import re
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote, urlsplit

from authlib.common.urls import add_params_to_uri
from authlib.oauth2.rfc7636 import create_s256_code_challenge

from .. import ratelimit
from ..access.principals import actor
from ..access.visitor_limits import source_key
from ..audit.trail import record_event
from ..errors import RateLimited, Unauthorized
from ..outbound.http import FetchError, fetch
from ..runtime import runtime
from ..storage.agents import CredentialModel
from ..storage.helpers import refusal_means
from ..storage.sso import SsoModel, registration
from ..tenancy.agents import find_agent
from ..tenancy.auth import signed_in
from ..tenancy.schemas import LoginOut
from . import schemas as s
from .id_token import TokenRejected, verify
from .provider import Provider, ProviderError, discover
from .registration import client_secret, redirect_uri

log = logging.getLogger("switchboard.sso")
STATE_SECONDS = 600
CODE_SECONDS = 60
SCOPE = "openid email profile"
_HANDLE = re.compile(r"^([A-Za-z0-9_\-]{1,64})\.([A-Za-z0-9_\-]{40,100})$")


@dataclass(frozen=True)
class Redirect:
    location: str
    cookie: str | None = None  # a Set-Cookie header value


class Failed(Exception):
    def __init__(self, reason: str, tenant_id: str | None = None, **details: Any) -> None:
        super().__init__(reason)
        self.reason, self.tenant_id, self.details = reason, tenant_id, details


def console_url(fragment: str) -> str:
    return f"{runtime().config.public_url}/app#{fragment}"


# --- start ------------------------------------------------------------------------------------------
def start(query: s.StartQuery, source_ip: str) -> Redirect:
    """Where to send the browser: the issuer's authorization endpoint (with a cookie binding the sign-in to this
    browser), or the console with the reason."""
    tenant_id = query.tenant_id
    try:
        ratelimit.enforce("sso-start", source_key(source_ip), runtime().config.login_limit_per_minute, 60)
        found = registration(tenant_id)
        if found is None or not found.issuer or not found.client_id:
            raise Failed("not_configured")
        try:
            provider = discover(found.issuer)
        except ProviderError:
            raise Failed("issuer_unavailable", tenant_id) from None
        state, nonce, verifier = _handle(tenant_id), secrets.token_urlsafe(32), secrets.token_urlsafe(64)
        binding = secrets.token_urlsafe(32)
        _put(tenant_id, "state#" + _digest(state), STATE_SECONDS, nonce=nonce, code_verifier=verifier,
             browser=_digest(binding))
    except RateLimited:
        return Redirect(console_url("sso_error=rate_limited"))
    except Failed as failed:
        return Redirect(_failed(failed, source_ip))
    except Exception:  # a dependency failed (DynamoDB, KMS): the browser still lands on the console
        log.exception("single sign-on could not start")
        return Redirect(console_url("sso_error=unavailable"))
    params = [("response_type", "code"), ("client_id", found.client_id), ("redirect_uri", redirect_uri()),
              ("scope", SCOPE), ("state", state), ("nonce", nonce),
              ("code_challenge", create_s256_code_challenge(verifier)), ("code_challenge_method", "S256")]
    if query.email:
        params.append(("login_hint", query.email))
    return Redirect(str(add_params_to_uri(provider.authorization_endpoint, params)),
                    _cookie(state, binding, STATE_SECONDS))


# --- callback ---------------------------------------------------------------------------------------
def callback(query: s.CallbackQuery, cookies: str | None, source_ip: str) -> Redirect:
    """Where to send the browser back from the issuer: the console, with a one-time code or the reason; the
    binding cookie is cleared either way."""
    cleared = _cookie(query.state, "", 0) if query.state and _tenant_of(query.state) else None
    try:
        ratelimit.enforce("sso-callback", source_key(source_ip), runtime().config.login_limit_per_minute, 60)
        return Redirect(console_url("sso=" + _complete(query, cookies)), cleared)
    except RateLimited:
        return Redirect(console_url("sso_error=rate_limited"), cleared)
    except Failed as failed:
        return Redirect(_failed(failed, source_ip), cleared)
    except Exception:  # as in start
        log.exception("single sign-on could not complete")
        return Redirect(console_url("sso_error=unavailable"), cleared)


def _complete(query: s.CallbackQuery, cookies: str | None) -> str:
    tenant_id = _tenant_of(query.state)
    if tenant_id is None or query.state is None:
        raise Failed("state_unknown")
    found = registration(tenant_id)
    if found is None or not found.issuer or not found.client_id:
        raise Failed("not_configured")
    flow = _consume(tenant_id, "state#" + _digest(query.state))
    if flow is None:  # never issued, already used (a replay) or expired
        raise Failed("state_unknown", tenant_id)
    # The browser that started the sign-in must be the one finishing it: a callback link an attacker got for
    # their own account and sent to someone else signs nobody in (login CSRF).
    binding = _cookie_value(cookies, _cookie_name(query.state))
    if binding is None or not secrets.compare_digest(_digest(binding), flow.browser or ""):
        raise Failed("browser_mismatch", tenant_id)
    if query.error:
        raise Failed("issuer_refused", tenant_id, error=query.error[:64])
    if query.iss is not None and query.iss != found.issuer:  # RFC 9207: a response from another issuer
        raise Failed("wrong_issuer", tenant_id)
    if not query.code:
        raise Failed("invalid_request", tenant_id)
    try:
        provider = discover(found.issuer)
        id_token = _exchange(provider, found, query.code, flow.code_verifier or "")
        identity = verify(id_token, provider, found.client_id, flow.nonce or "")
    except ProviderError:
        raise Failed("issuer_unavailable", tenant_id) from None
    except TokenRejected as rejected:
        raise Failed(rejected.reason, tenant_id) from None
    agent_id = _agent_id(tenant_id, identity.email)
    code = _handle(tenant_id)
    _put(tenant_id, "code#" + _digest(code), CODE_SECONDS, agent_id=agent_id)
    return code


def _exchange(provider: Provider, found: SsoModel, code: str, verifier: str) -> str:
    """The ID token the token endpoint gives for the code (RFC 6749 4.1.3, RFC 7636 4.5)."""
    client_id, secret = found.client_id or "", client_secret(found)
    form = {"grant_type": "authorization_code", "code": code, "redirect_uri": redirect_uri(),
            "code_verifier": verifier}
    headers = {}
    if provider.basic_auth:  # RFC 6749 2.3.1: each part form-encoded, then Basic
        pair = f"{quote(client_id, safe='')}:{quote(secret, safe='')}".encode()
        headers["Authorization"] = "Basic " + base64.b64encode(pair).decode()
    else:
        form.update(client_id=client_id, client_secret=secret)
    try:
        answer = fetch(provider.token_endpoint, form=form, headers=headers)
        document = answer.json()
    except FetchError:
        raise Failed("token_endpoint_error", found.tenant_id) from None
    if answer.status != 200 or not isinstance(document, dict):
        error = document.get("error") if isinstance(document, dict) else None
        raise Failed("token_endpoint_error", found.tenant_id, status=answer.status,
                     error=error[:64] if isinstance(error, str) else None)
    id_token = document.get("id_token")
    if not isinstance(id_token, str) or len(id_token) > 16_000:
        raise Failed("invalid_token", found.tenant_id)
    return id_token


def _agent_id(tenant_id: str, email: str) -> str:
    """The tenant's active agent with this (verified) email."""
    try:
        credential = CredentialModel.get(tenant_id, email, consistent_read=True)
    except CredentialModel.DoesNotExist:
        raise Failed("no_such_agent", tenant_id) from None
    agent = find_agent(tenant_id, credential.agent_id)
    if agent is None:
        raise Failed("no_such_agent", tenant_id)
    if not agent.active:
        raise Failed("agent_inactive", tenant_id, agent_id=agent.agent_id)
    return str(agent.agent_id)


# --- redeem -----------------------------------------------------------------------------------------
def redeem(body: s.RedeemIn, source_ip: str) -> LoginOut:
    # A counter of its own: redeeming (a 64-character random code) never spends the source's password logins.
    ratelimit.enforce("sso-redeem", source_key(source_ip), runtime().config.login_limit_per_minute, 60)
    tenant_id = _tenant_of(body.code)
    item = _consume(tenant_id, "code#" + _digest(body.code)) if tenant_id else None
    agent = find_agent(item.tenant_id, item.agent_id or "") if item else None
    if item is None or agent is None or not agent.active:
        if tenant_id and registration(tenant_id):
            reason = "code_unknown" if item is None else "agent_inactive"
            _audit_failure(tenant_id, reason, source_ip, {})
        raise Unauthorized("This sign-in is unknown, used or expired: sign in again.")
    return signed_in(agent, {"source_ip": source_ip, "method": "sso"})


# --- the items ----------------------------------------------------------------------------------------
def _handle(tenant_id: str) -> str:
    return f"{tenant_id}.{secrets.token_urlsafe(48)}"


def _tenant_of(handle: str | None) -> str | None:
    match = _HANDLE.match(handle or "")
    return match.group(1) if match else None


def _digest(handle: str) -> str:
    return hashlib.sha256(handle.encode()).hexdigest()


def _cookie_name(state: str) -> str:
    """One cookie per sign-in under way, so sign-ins started in two tabs do not undo each other."""
    return "sso_" + _digest(state)[:16]


def _cookie(state: str, value: str, seconds: int) -> str:
    public = urlsplit(runtime().config.public_url)
    secure = "; Secure" if public.scheme == "https" else ""
    # Lax: sent on the issuer's top-level redirect back; the path keeps it off every other request.
    return (f"{_cookie_name(state)}={value}; Max-Age={seconds}; Path={public.path}/v1/auth/sso/callback; "
            f"HttpOnly; SameSite=Lax{secure}")


def _cookie_value(cookies: str | None, name: str) -> str | None:
    for pair in (cookies or "").split(";"):
        key, _, value = pair.strip().partition("=")
        if key == name and value:
            return value
    return None


def _put(tenant_id: str, item: str, seconds: int, **fields: Any) -> None:
    expires_at = datetime.fromtimestamp(runtime().clock.now() + seconds, tz=UTC)
    SsoModel(tenant_id, item, expires_at=expires_at, **fields).save(condition=SsoModel.item.does_not_exist())


def _consume(tenant_id: str, item: str) -> SsoModel | None:
    """The item, deleted: only the one request whose conditional delete wins gets it, and only in time."""
    try:
        found = SsoModel.get(tenant_id, item, consistent_read=True)
    except SsoModel.DoesNotExist:
        return None
    with refusal_means() as refused:
        found.delete(condition=SsoModel.item.exists())
    if refused or found.expires_at is None or found.expires_at.timestamp() <= runtime().clock.now():
        return None
    return found


def _failed(failed: Failed, source_ip: str) -> str:
    if failed.tenant_id is not None:
        _audit_failure(failed.tenant_id, failed.reason, source_ip, failed.details)
    return console_url(f"sso_error={failed.reason}")


def _audit_failure(tenant_id: str, reason: str, source_ip: str, details: dict[str, Any]) -> None:
    extra = {name: value for name, value in details.items() if value is not None}
    record_event(tenant_id, actor("anonymous", source_key(source_ip)), "auth.sso_failed", "sso",
                 {"reason": reason, "source_ip": source_ip, **extra})
