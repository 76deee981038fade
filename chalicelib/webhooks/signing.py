"""A webhook's secret, kept so it can sign later, and the Switchboard-Signature it signs with.

The secret is stored as the identity secret is (tenancy/identity.py): wrapped with AES-256-GCM by the
tenant's current data key (itself wrapped by KMS, transcripts/keys.py), bound to tenant, webhook and key
version, never in plaintext; it is shown once, when the webhook is made.

    Switchboard-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<raw body>" under the secret>
"""
from __future__ import annotations

import hashlib
import hmac
import secrets

from ..runtime import runtime
from ..storage.base import WrappedKey
from ..transcripts.keys import key_ring, unwrap, wrap

SECRET_BYTES = 32
HEADER = "Switchboard-Signature"


def _place(tenant_id: str, webhook_id: str, version: int) -> bytes:
    return f"switchboard.webhook-secret.v1|{tenant_id}|{webhook_id}|{version}".encode()


def new_secret(tenant_id: str, webhook_id: str) -> tuple[str, WrappedKey]:
    """A new secret and its stored (wrapped) form."""
    secret = "whsec_" + secrets.token_hex(SECRET_BYTES)
    tenant_key = key_ring().tenant_keys.current(tenant_id)
    stored = WrappedKey(version=tenant_key.version, created_at=runtime().clock.utcnow(),
                        wrapped=wrap(tenant_key.secret, secret.encode(),
                                     _place(tenant_id, webhook_id, tenant_key.version)))
    return secret, stored


def open_secret(tenant_id: str, webhook_id: str, stored: WrappedKey) -> bytes:
    version = int(stored.version)
    tenant_key = key_ring().tenant_keys.version(tenant_id, version)
    return unwrap(tenant_key.secret, stored.wrapped, _place(tenant_id, webhook_id, version))


def signature(secret: bytes, timestamp: int, body: bytes) -> str:
    digest = hmac.new(secret, f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={digest}"
