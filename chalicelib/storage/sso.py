"""Single sign-on (chalicelib/sso/): a tenant's OpenID Connect registration and its short-lived flow items."""
from __future__ import annotations

from pynamodb.attributes import (
    BinaryAttribute,
    BooleanAttribute,
    NumberAttribute,
    TTLAttribute,
    UnicodeAttribute,
    UTCDateTimeAttribute,
)
from pynamodb.exceptions import DoesNotExist

from .base import TableModel, table_meta

REGISTRATION = "registration"


class SsoModel(TableModel):
    """Three kinds of item under the tenant, by `item`:
    "registration": the issuer, client id, the client secret wrapped (AES-256-GCM, bound to the tenant) by
      a version of the tenant's key (itself wrapped by KMS, transcripts/keys.py) and sso_only; no TTL.
    "state#<SHA-256 of the state>": one sign-in under way: its nonce, PKCE verifier and browser binding;
      deleted (once, by condition) when the issuer sends the browser back, else gone with its TTL.
    "code#<SHA-256 of the code>": the one-time code the console redeems for a session: the agent; deleted
      (once, by condition) when redeemed, else gone with its TTL."""
    Meta = table_meta("sso")
    tenant_id = UnicodeAttribute(hash_key=True)
    item = UnicodeAttribute(range_key=True)
    # The registration.
    issuer = UnicodeAttribute(null=True)
    client_id = UnicodeAttribute(null=True)
    client_secret_wrapped = BinaryAttribute(null=True, legacy_encoding=False)
    secret_key_version = NumberAttribute(null=True)  # the tenant key version that wraps it
    sso_only = BooleanAttribute(null=True)
    updated_at = UTCDateTimeAttribute(null=True)
    # A sign-in under way.
    nonce = UnicodeAttribute(null=True)
    code_verifier = UnicodeAttribute(null=True)
    browser = UnicodeAttribute(null=True)  # SHA-256 of the cookie that binds the sign-in to its browser
    # A code to redeem.
    agent_id = UnicodeAttribute(null=True)
    expires_at = TTLAttribute(null=True)


def registration(tenant_id: str) -> SsoModel | None:
    try:
        return SsoModel.get(tenant_id, REGISTRATION, consistent_read=True)
    except DoesNotExist:
        return None


def sso_only(tenant_id: str) -> bool:
    """Whether the tenant's staff (admins aside) must sign in with single sign-on; password login asks."""
    found = registration(tenant_id)
    return bool(found and found.sso_only)
