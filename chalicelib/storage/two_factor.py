"""Staff two-factor sign-in (tenancy/two_factor/): one enrolment per agent, and remembered devices.

Both kinds live in one table, keyed by tenant and item: "totp#<agent_id>" is the agent's enrolment
(the TOTP secret wrapped by a tenant key, never in plaintext; the SHA-256 of each unused recovery
code; the last time step a code was accepted at); "device#<agent_id>#<SHA-256 of the token>" is a
remembered device, which counts only while the enrolment it was issued under is still the agent's.
"""
from __future__ import annotations

from pynamodb.attributes import (
    BinaryAttribute,
    NumberAttribute,
    TTLAttribute,
    UnicodeAttribute,
    UnicodeSetAttribute,
    UTCDateTimeAttribute,
)

from .base import TableModel, table_meta

ENROLMENT_PREFIX = "totp#"  # a tenant's enrolments are one Query of this prefix, devices apart


def enrolment_item(agent_id: str) -> str:
    return f"{ENROLMENT_PREFIX}{agent_id}"


def device_item(agent_id: str, token_sha256: str) -> str:
    return f"device#{agent_id}#{token_sha256}"


class TwoFactorModel(TableModel):
    Meta = table_meta("two-factor")
    tenant_id = UnicodeAttribute(hash_key=True)
    item = UnicodeAttribute(range_key=True)
    agent_id = UnicodeAttribute()
    # An enrolment: "pending" until a first code confirms it, then "active".
    status = UnicodeAttribute(null=True)
    enrolment_id = UnicodeAttribute(null=True)  # new each time enrolment starts; devices name it
    secret_wrapped = BinaryAttribute(null=True, legacy_encoding=False)
    key_version = NumberAttribute(null=True)  # the tenant key that wraps the secret
    last_step = NumberAttribute(null=True)  # the newest 30 s step a code was accepted at (no replay)
    recovery_sha256 = UnicodeSetAttribute(null=True)  # unused recovery codes; each removed when used
    created_at = UTCDateTimeAttribute(null=True)
    confirmed_at = UTCDateTimeAttribute(null=True)
    # A remembered device: the agent's session_version when remembered (a password change ends it).
    session_version = NumberAttribute(null=True)
    # A pending enrolment not confirmed in time, and a remembered device past its end, are swept.
    expires_at = TTLAttribute(null=True)
