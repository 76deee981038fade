"""The second step of a login, once the password was right (tenancy/auth.py calls it).

An enrolled agent needs a current code, an unused recovery code or a remembered device; without
one the login is 401 `totp_required`, and a wrong one is 401 `totp_invalid` that counts as a failed
login (tenancy/login_throttle.py: growing delays per account and source). An agent not enrolled
in a tenant that requires two-factor gets a session that may only enrol.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from ...access.principals import actor
from ...audit.trail import record_event
from ...errors import Unauthorized
from ...storage.agents import AgentModel
from ...storage.settings import Settings
from ...storage.tenants import get_tenant
from .. import schemas as s
from . import devices, enrolment

Method = Literal["totp", "recovery_code", "remembered_device"]


class WrongCode(Unauthorized):
    """A code or recovery code that is not right (or was used already)."""
    code = "totp_invalid"


@dataclass(frozen=True)
class Passed:
    method: Method | None  # None: the agent has no two-factor
    enrolment_only: bool = False
    device_token: str | None = None
    device_expires_at: datetime | None = None


def second_factor(agent: AgentModel, body: s.LoginIn) -> Passed:
    enrolled = enrolment.active(agent.tenant_id, agent.agent_id)
    if enrolled is None:
        return Passed(None, enrolment_only=_settings(agent.tenant_id).totp_required)
    if body.device_token and not (body.totp_code or body.recovery_code) and devices.recognised(
            agent, enrolled, body.device_token):
        return Passed("remembered_device")
    if body.totp_code:
        if not enrolment.accept_code(enrolled, body.totp_code):
            raise WrongCode("Wrong or already used two-factor code.")
        method: Method = "totp"
    elif body.recovery_code:
        left = enrolment.use_recovery_code(enrolled, body.recovery_code)
        if left is None:
            raise WrongCode("Wrong or already used recovery code.")
        record_event(agent.tenant_id, actor("agent", agent.agent_id), "auth.recovery_code_used", agent.agent_id,
                     {"remaining": left})
        method = "recovery_code"
    else:
        # The password was right: the second step may say for how long this tenant remembers a device.
        raise Unauthorized("A two-factor code is required.", code="totp_required",
                           details={"remember_device_days": _settings(agent.tenant_id).remember_device_days})
    days = _settings(agent.tenant_id).remember_device_days if body.remember_device else 0
    if not days:
        return Passed(method)
    token, ends_at = devices.remember(agent, enrolled, days)
    return Passed(method, device_token=token, device_expires_at=ends_at)


def _settings(tenant_id: str) -> Settings:
    return Settings.model_validate(get_tenant(tenant_id).settings)
