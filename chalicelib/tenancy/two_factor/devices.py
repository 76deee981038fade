"""Remembered devices: after a login that passed the second factor, a random token the browser keeps
that skips the code at this agent's later logins (the password is always asked) until it ends.

Only the token's SHA-256 is stored, in the item's key, under the agent: a token is good for that
agent only. It is honoured while it has not reached its end (the tenant's remember_device_days from
when it was issued; never extended), the enrolment it was issued under is still the agent's (removing
or resetting two-factor forgets every device at once) and the agent's session_version is unchanged
(a password or role change, or deactivation, forgets them too), so nothing has to find them to end them.
"""
from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta

from pynamodb.exceptions import DoesNotExist

from ...runtime import runtime
from ...storage.agents import AgentModel
from ...storage.two_factor import TwoFactorModel, device_item


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def remember(agent: AgentModel, enrolment: TwoFactorModel, days: int) -> tuple[str, datetime]:
    token = secrets.token_urlsafe(32)
    ends_at = runtime().clock.utcnow() + timedelta(days=days)
    TwoFactorModel(agent.tenant_id, device_item(agent.agent_id, _digest(token)), agent_id=agent.agent_id,
                   enrolment_id=enrolment.enrolment_id, session_version=int(agent.session_version),
                   created_at=runtime().clock.utcnow(), expires_at=ends_at).save()
    return token, ends_at


def recognised(agent: AgentModel, enrolment: TwoFactorModel, token: str) -> bool:
    try:
        device = TwoFactorModel.get(agent.tenant_id, device_item(agent.agent_id, _digest(token)),
                                    consistent_read=True)
    except DoesNotExist:
        return False
    return (device.expires_at is not None and device.expires_at.timestamp() > runtime().clock.now()
            and device.enrolment_id == enrolment.enrolment_id
            and device.session_version == agent.session_version)
