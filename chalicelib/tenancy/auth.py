"""Logging in and out: passwords (rehashed at today's cost), the second factor (two_factor/sign_in.py),
failed-login throttling, sessions; and who is calling (GET /v1/me), with what they set for themself
(PATCH /v1/me: their console language)."""
from __future__ import annotations

from datetime import UTC, datetime

from pynamodb.exceptions import DoesNotExist
from pynamodb.expressions.update import Action

from .. import ratelimit
from ..access import sessions
from ..access.principals import Principal, actor
from ..access.roles import ADMIN
from ..access.visitor_limits import source_key
from ..audit.trail import record_event
from ..clock import iso
from ..errors import Forbidden, NotFound, Unauthorized
from ..runtime import runtime
from ..storage.agents import AgentModel, CredentialModel
from ..storage.helpers import refusal_means
from ..storage.sso import sso_only
from . import login_throttle, revocation
from . import schemas as s
from .agents import agent_out, find_agent, get_agent
from .passwords import burn_verification_time, hash_password, needs_rehash, verify_password
from .two_factor import sign_in


def login(body: s.LoginIn, source_ip: str) -> s.LoginOut:
    rt = runtime()
    source = source_key(source_ip)  # an IPv6 host holds a whole /64
    ratelimit.enforce("login-ip", source, rt.config.login_limit_per_minute, 60)
    attempt = login_throttle.begin(body.tenant_id, body.email, source)
    agent, agent_id = _check_password(body)
    if agent is None:
        attempt.failed(agent_id)
        # One answer for every wrong part: unknown tenant, unknown email, wrong password, inactive.
        raise Unauthorized("Wrong tenant, email or password.")
    # Only once the password checked out, so a 401 tells nobody whether the tenant is SSO-only. Admins
    # keep their passwords (break-glass: an issuer that is down or misconfigured locks nobody out for good).
    if agent.role not in ADMIN and sso_only(agent.tenant_id):
        attempt.succeeded()
        raise Forbidden("This workspace signs in with single sign-on.", code="sso_required")
    try:
        passed = sign_in.second_factor(agent, body)
    except sign_in.WrongCode:
        attempt.failed(agent.agent_id)  # codes are throttled as passwords are
        raise
    attempt.succeeded()
    return signed_in(agent, {"source_ip": source_ip, "second_factor": passed.method}, passed)


def signed_in(agent: AgentModel, details: dict[str, str | None], passed: sign_in.Passed | None = None) -> s.LoginOut:
    """A new session for an agent whose identity was just proven: a password and the second factor
    the tenant asks for (passed), or single sign-on (None: the issuer is where its second factor belongs)."""
    rt = runtime()
    passed = passed or sign_in.Passed(None)
    session = sessions.start(agent, enrolment_only=passed.enrolment_only)
    record_event(agent.tenant_id, actor("agent", agent.agent_id), "auth.login", agent.agent_id,
                 {**details, "session_id": session.id, **({"enrolment_only": True} if passed.enrolment_only else {})})
    issued = sessions.issue_token(agent.tenant_id, agent.agent_id, session)
    return s.LoginOut(token=issued.token, expires_at=_iso_epoch(issued.expires_at),
                      session_expires_at=_iso_epoch(session.ends_at), ws_url=rt.config.ws_public_url,
                      agent=agent_out(agent), totp_enrolment_required=passed.enrolment_only,
                      device_token=passed.device_token,
                      device_expires_at=iso(passed.device_expires_at) if passed.device_expires_at else None)


def _check_password(body: s.LoginIn) -> tuple[AgentModel | None, str | None]:
    """The agent if every part is right; else None, and the id of the account tried, if any."""
    try:
        credential = CredentialModel.get(body.tenant_id, body.email, consistent_read=True)
    except DoesNotExist:
        burn_verification_time(body.password)
        return None, None
    if not verify_password(body.password, credential.password_hash):
        return None, credential.agent_id
    agent = find_agent(body.tenant_id, credential.agent_id)
    if agent is None or not agent.active:
        return None, credential.agent_id
    if needs_rehash(credential.password_hash):
        _rehash(credential, body.password)
    return agent, agent.agent_id


def _rehash(credential: CredentialModel, password: str) -> None:
    """A hash made at a lower cost is replaced at today's, now that the password is at hand."""
    with refusal_means():  # the password changed meanwhile: that hash is newer
        credential.update(actions=[CredentialModel.password_hash.set(hash_password(password))],
                          condition=CredentialModel.password_hash == credential.password_hash)


def refresh(principal: Principal) -> s.RefreshOut:
    """A fresh token of the same session: it expires at the session's absolute end at the latest."""
    session = own_session(principal)
    issued = sessions.issue_token(principal.tenant_id, principal.id, session)
    return s.RefreshOut(token=issued.token, expires_at=_iso_epoch(issued.expires_at),
                        session_expires_at=_iso_epoch(session.ends_at))


def logout(principal: Principal) -> None:
    session = own_session(principal)
    revocation.end(principal.tenant_id, principal.id, session.id)
    record_event(principal.tenant_id, principal.actor, "auth.logout", principal.id, {"session_id": session.id})


def me(principal: Principal) -> s.MeOut:
    out = s.MeOut(kind=principal.kind, tenant_id=principal.tenant_id, role=principal.role,
                  totp_enrolment_required=principal.session is not None and principal.session.enrolment_only)
    if principal.kind == "agent":
        out.agent = agent_out(get_agent(principal.tenant_id, principal.id))
    elif principal.kind == "api_key":
        out.key_id = principal.id
    else:
        out.visitor_id = principal.id
    return out


def update_me(principal: Principal, patch: s.MePatch) -> s.MeOut:
    """An agent's own preferences. Not audited: the console's language grants and shows nothing new."""
    if principal.kind != "agent":
        raise Forbidden("Only an agent can change their own preferences.")
    changes = patch.model_dump(exclude_unset=True)
    if changes:
        locale = changes["locale"]
        actions: list[Action] = [AgentModel.locale.set(locale) if locale else AgentModel.locale.remove(),
                                 AgentModel.updated_at.set(runtime().clock.utcnow())]
        with refusal_means(NotFound("No such agent.")):
            AgentModel(principal.tenant_id, principal.id).update(actions=actions,
                                                                 condition=AgentModel.agent_id.exists())
    return me(principal)


def own_session(principal: Principal) -> sessions.Session:
    if principal.session is None:  # an API key has no session
        raise Forbidden("Only an agent's session token can do this.")
    return principal.session


def _iso_epoch(seconds: float) -> str:
    return iso(datetime.fromtimestamp(seconds, tz=UTC))
