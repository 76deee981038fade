"""An agent's enrolment (storage/two_factor.py): started, confirmed by a first code, used, removed.

The TOTP secret must be readable to check codes, so it cannot be hashed: it is stored wrapped
(AES-256-GCM) by the tenant's current data key, itself wrapped by KMS (transcripts/keys.py), and the
wrapping is bound to tenant, agent, enrolment and key version, so a wrapped secret copied to another
agent's item does not open. Recovery codes are kept only as digests, each removed by the conditional
write that uses it. A code is accepted once: the step it belongs to must be newer than the last
accepted (a condition on the item), so a code seen over a shoulder or replayed in parallel fails.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from pynamodb.exceptions import DoesNotExist

from ...errors import Conflict
from ...ids import new_id
from ...runtime import runtime
from ...storage.helpers import refusal_means
from ...storage.two_factor import TwoFactorModel, enrolment_item
from ...transcripts.keys import key_ring, unwrap, wrap
from . import codes

# An enrolment not confirmed within this long is gone: starting again shows a new secret.
PENDING_SECONDS = 3600
NOT_STARTED = Conflict("Start two-factor enrolment first (POST /v1/auth/totp).", code="totp_not_started")


@dataclass(frozen=True)
class Started:
    secret: str
    otpauth_uri: str
    expires_at: float


def _secret_place(tenant_id: str, agent_id: str, enrolment_id: str, version: int) -> bytes:
    return f"switchboard.totp-secret.v1|{tenant_id}|{agent_id}|{enrolment_id}|{version}".encode()


def find(tenant_id: str, agent_id: str) -> TwoFactorModel | None:
    """The agent's enrolment, active or pending (a pending one past its time counts as none)."""
    try:
        item = TwoFactorModel.get(tenant_id, enrolment_item(agent_id), consistent_read=True)
    except DoesNotExist:
        return None
    if item.status == "pending" and item.expires_at and item.expires_at.timestamp() <= runtime().clock.now():
        return None
    return item


def active(tenant_id: str, agent_id: str) -> TwoFactorModel | None:
    item = find(tenant_id, agent_id)
    return item if item is not None and item.status == "active" else None


def secret_of(item: TwoFactorModel) -> str:
    assert item.secret_wrapped is not None and item.key_version is not None and item.enrolment_id
    version = int(item.key_version)
    tenant_key = key_ring().tenant_keys.version(item.tenant_id, version)
    return unwrap(tenant_key.secret, item.secret_wrapped,
                  _secret_place(item.tenant_id, item.agent_id, item.enrolment_id, version)).decode()


def start(tenant_id: str, agent_id: str, email: str) -> Started:
    """A new pending enrolment, replacing a pending one; 409 while one is active (remove it first)."""
    rt = runtime()
    secret, enrolment_id = codes.new_secret(), new_id("tf")
    tenant_key = key_ring().tenant_keys.current(tenant_id)
    wrapped = wrap(tenant_key.secret, secret.encode(),
                   _secret_place(tenant_id, agent_id, enrolment_id, tenant_key.version))
    expires_at = rt.clock.now() + PENDING_SECONDS
    item = TwoFactorModel(tenant_id, enrolment_item(agent_id), agent_id=agent_id, status="pending",
                          enrolment_id=enrolment_id, secret_wrapped=wrapped, key_version=tenant_key.version,
                          created_at=rt.clock.utcnow(), expires_at=rt.clock.utcnow() + timedelta(
                              seconds=PENDING_SECONDS))
    with refusal_means(Conflict("Two-factor sign-in is already on; turn it off before setting it up again.",
                                code="totp_already_enrolled")):
        item.save(condition=TwoFactorModel.item.does_not_exist() | (TwoFactorModel.status == "pending"))
    return Started(secret, codes.otpauth_uri(secret, email), expires_at)


def confirm(item: TwoFactorModel, step: int) -> list[str]:
    """The pending enrolment becomes active at the step of the code that confirmed it; its recovery
    codes, shown only now. Two confirmations at once: one wins, the other is 409."""
    recovery, digests = _new_recovery_codes(item)
    with refusal_means(Conflict("The set-up changed meanwhile (confirmed elsewhere, or started again).")):
        item.update(actions=[TwoFactorModel.status.set("active"), TwoFactorModel.last_step.set(step),
                             TwoFactorModel.recovery_sha256.set(digests),
                             TwoFactorModel.confirmed_at.set(runtime().clock.utcnow()),
                             TwoFactorModel.expires_at.remove()],
                    condition=(TwoFactorModel.status == "pending")
                    & (TwoFactorModel.enrolment_id == item.enrolment_id))
    return recovery


def replace_recovery_codes(item: TwoFactorModel) -> list[str] | None:
    """A new set of recovery codes in place of whatever is left of the old; None when the enrolment
    was removed or replaced meanwhile."""
    recovery, digests = _new_recovery_codes(item)
    with refusal_means() as gone:
        item.update(actions=[TwoFactorModel.recovery_sha256.set(digests)],
                    condition=(TwoFactorModel.status == "active") & (TwoFactorModel.enrolment_id == item.enrolment_id))
    return None if gone else recovery


def _new_recovery_codes(item: TwoFactorModel) -> tuple[list[str], set[str]]:
    recovery = codes.new_recovery_codes()
    return recovery, {codes.recovery_digest(item.tenant_id, item.agent_id, code) for code in recovery}


def accept_code(item: TwoFactorModel, code: str) -> bool:
    """True once for a right code: its step is recorded as the last used, so neither it nor an
    older one passes again (two uses at once: the condition lets one through)."""
    step = codes.matching_step(secret_of(item), code, runtime().clock.now())
    if step is None:
        return False
    with refusal_means() as replayed:
        item.update(actions=[TwoFactorModel.last_step.set(step)],
                    condition=(TwoFactorModel.enrolment_id == item.enrolment_id)
                    & (TwoFactorModel.status == "active")
                    & (TwoFactorModel.last_step.does_not_exist() | (TwoFactorModel.last_step < step)))
    return not replayed


def use_recovery_code(item: TwoFactorModel, code: str) -> int | None:
    """How many recovery codes are left once this one is spent; None when it is not one of them (or
    was spent already: of two uses at once, the condition lets one through)."""
    digest = codes.recovery_digest(item.tenant_id, item.agent_id, code)
    with refusal_means() as unknown:
        item.update(actions=[TwoFactorModel.recovery_sha256.delete({digest})],
                    condition=(TwoFactorModel.enrolment_id == item.enrolment_id)
                    & (TwoFactorModel.status == "active") & TwoFactorModel.recovery_sha256.contains(digest))
    return None if unknown else recovery_codes_left(item)


def recovery_codes_left(item: TwoFactorModel) -> int:
    return len(item.recovery_sha256 or ())


def remove(item: TwoFactorModel) -> bool:
    """Delete this enrolment (not one started since); False when it was already gone or replaced."""
    with refusal_means() as gone:
        item.delete(condition=TwoFactorModel.enrolment_id == item.enrolment_id)
    return not gone


