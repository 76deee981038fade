"""The two-factor routes' work: one's own status, enrolment and removal; an admin's view and reset.

Removing one's own two-factor needs proof (a current code, a recovery code or the password), is
throttled as logins are, is refused while the tenant requires two-factor, and forgets remembered
devices; the agent's sessions go on (each passed the second factor when it began, and the caller has
just proved who they are). An admin's reset of another agent ends every session of theirs: a reset
is what happens when an account's second factor may be in the wrong hands.
"""
from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import TypeVar

from ...access import sessions
from ...access.principals import Principal
from ...access.visitor_limits import source_key
from ...audit.trail import record_event
from ...clock import iso
from ...errors import Conflict, InvalidInput
from ...runtime import runtime
from ...storage.agents import AgentModel, CredentialModel
from ...storage.helpers import decode_cursor, encode_cursor, refusal_means, transaction
from ...storage.settings import Settings
from ...storage.tenants import get_tenant
from ...storage.two_factor import ENROLMENT_PREFIX, TwoFactorModel
from .. import login_throttle, revocation
from ..agents import get_agent
from ..auth import own_session
from ..passwords import verify_password
from . import codes, enrolment
from . import schemas as s

NOT_ENROLLED = Conflict("Two-factor sign-in is not on for this agent.", code="totp_not_enrolled")
Proof = TypeVar("Proof")


def status(principal: Principal) -> s.TotpStatusOut:
    own_session(principal)
    item = enrolment.find(principal.tenant_id, principal.id)
    required = Settings.model_validate(get_tenant(principal.tenant_id).settings).totp_required
    if item is None:
        return s.TotpStatusOut(status="none", required=required)
    out = _enrolment_out(item)
    return s.TotpStatusOut(status=out.status, confirmed_at=out.confirmed_at,
                           recovery_codes_left=out.recovery_codes_left, required=required)


def start(principal: Principal) -> s.TotpEnrolmentOut:
    own_session(principal)
    agent = get_agent(principal.tenant_id, principal.id)
    started = enrolment.start(principal.tenant_id, principal.id, agent.email)
    return s.TotpEnrolmentOut(secret=started.secret, otpauth_uri=started.otpauth_uri,
                              qr_svg=codes.qr_svg(started.otpauth_uri),
                              expires_at=iso(datetime.fromtimestamp(started.expires_at, tz=UTC)))


def confirm(principal: Principal, body: s.TotpConfirmIn, source_ip: str) -> s.RecoveryCodesOut:
    session = own_session(principal)
    item = enrolment.find(principal.tenant_id, principal.id)
    if item is None or item.status != "pending":
        raise (Conflict("Two-factor sign-in is already on.", code="totp_already_enrolled")
               if item is not None else enrolment.NOT_STARTED)
    step = _proved(get_agent(principal.tenant_id, principal.id), source_ip, lambda: codes.matching_step(
        enrolment.secret_of(item), body.code, runtime().clock.now()), "code: not what the authenticator app shows now")
    recovery = enrolment.confirm(item, step)
    if session.enrolment_only:  # the smoother way: the same session goes on, now a full one
        sessions.lift_enrolment_only(principal.tenant_id, session.id)
    record_event(principal.tenant_id, principal.actor, "auth.totp_enrolled", principal.id,
                 {"recovery_codes": len(recovery)})
    return s.RecoveryCodesOut(recovery_codes=recovery)


def remove(principal: Principal, body: s.TotpRemoveIn, source_ip: str) -> None:
    own_session(principal)
    item = enrolment.find(principal.tenant_id, principal.id)
    if item is None:
        raise NOT_ENROLLED
    if item.status == "pending":  # abandoning a setup needs no proof: it never protected anything
        enrolment.remove(item)
        return
    if Settings.model_validate(get_tenant(principal.tenant_id).settings).totp_required:
        raise Conflict("Your organisation requires two-factor sign-in; an admin can reset it.",
                       code="totp_required_by_tenant")
    agent = get_agent(principal.tenant_id, principal.id)
    proof = _proved(agent, source_ip, lambda: _check_proof(agent, item, body),
                    "Wrong or already used code, or wrong password.")
    if not enrolment.remove(item):
        raise NOT_ENROLLED
    record_event(principal.tenant_id, principal.actor, "auth.totp_removed", principal.id, {"proof": proof})


def replace_recovery_codes(principal: Principal, body: s.RecoveryCodesIn, source_ip: str) -> s.RecoveryCodesOut:
    """New recovery codes (shown once) for a current code; the unused old ones stop working."""
    own_session(principal)
    item = enrolment.active(principal.tenant_id, principal.id)
    if item is None:
        raise NOT_ENROLLED
    _proved(get_agent(principal.tenant_id, principal.id), source_ip,
            lambda: True if enrolment.accept_code(item, body.totp_code) else None,
            "totp_code: wrong or already used")
    recovery = enrolment.replace_recovery_codes(item)
    if recovery is None:
        raise NOT_ENROLLED
    record_event(principal.tenant_id, principal.actor, "auth.recovery_codes_replaced", principal.id,
                 {"recovery_codes": len(recovery)})
    return s.RecoveryCodesOut(recovery_codes=recovery)


def _proved(agent: AgentModel, source_ip: str, check: Callable[[], Proof | None],
            wrong: str = "code: wrong or already used") -> Proof:
    """What `check` found, or 400 `totp_invalid`: a wrong proof counts as a failed login of the agent
    from this source, and a source that failed too often waits (429) before it is even checked."""
    attempt = login_throttle.begin(agent.tenant_id, agent.email, source_key(source_ip))
    proved = check()
    if proved is None:
        attempt.failed(agent.agent_id)
        raise InvalidInput(wrong, code="totp_invalid")
    attempt.succeeded()
    return proved


def _check_proof(agent: AgentModel, item: TwoFactorModel, body: s.TotpRemoveIn) -> str | None:
    if body.totp_code is not None:
        return "totp" if enrolment.accept_code(item, body.totp_code) else None
    if body.recovery_code is not None:
        return "recovery_code" if enrolment.use_recovery_code(item, body.recovery_code) is not None else None
    credential = CredentialModel.get(agent.tenant_id, agent.email, consistent_read=True)
    return "password" if body.password and verify_password(body.password, credential.password_hash) else None


def reset(principal: Principal, agent_id: str) -> None:
    """An admin removes another agent's two-factor (lost phone and codes); every session of that agent
    ends, in the same transaction, and they set it up again at their next login if it is required."""
    if agent_id == principal.id:
        raise Conflict("Turn off your own two-factor from your account (DELETE /v1/auth/totp).",
                       code="self_change")
    agent = get_agent(principal.tenant_id, agent_id)
    item = enrolment.find(principal.tenant_id, agent_id)
    if item is None:
        raise NOT_ENROLLED
    with refusal_means(NOT_ENROLLED), transaction() as tx:
        tx.delete(item, condition=TwoFactorModel.enrolment_id == item.enrolment_id)
        tx.update(agent, actions=[AgentModel.session_version.add(1),
                                  AgentModel.updated_at.set(runtime().clock.utcnow())],
                  condition=AgentModel.agent_id.exists())
    record_event(principal.tenant_id, principal.actor, "auth.totp_reset", agent_id, {"status": item.status})
    revocation.end_all(agent, "totp_reset")


def list_enrolments(principal: Principal, cursor: str | None) -> s.EnrolmentList:
    tenant_id = principal.tenant_id
    page = TwoFactorModel.query(tenant_id, TwoFactorModel.item.startswith(ENROLMENT_PREFIX), limit=100,
                                last_evaluated_key=decode_cursor(cursor, {"tenant_id", "item"},
                                                                 {"tenant_id": tenant_id}))
    items = [_enrolment_out(item) for item in page]
    return s.EnrolmentList(items=[item for item in items if item.status != "none"],
                           next_cursor=encode_cursor(page.last_evaluated_key))


def _enrolment_out(item: TwoFactorModel) -> s.EnrolmentOut:
    lapsed = item.status == "pending" and item.expires_at is not None and (
        item.expires_at.timestamp() <= runtime().clock.now())
    if lapsed:
        return s.EnrolmentOut(agent_id=item.agent_id, status="none")
    active = item.status == "active"
    return s.EnrolmentOut(agent_id=item.agent_id, status="active" if active else "pending",
                          confirmed_at=iso(item.confirmed_at) if active and item.confirmed_at else None,
                          recovery_codes_left=enrolment.recovery_codes_left(item) if active else None)
