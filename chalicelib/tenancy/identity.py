"""Rotating the two things a tenant's pages carry: the widget key and the identity secret.

The identity secret verifies the user_hash a widget session sends (visitors/identities.py): only a
verified user_id links a visitor to earlier conversations. The secret must be usable to verify
HMACs, so it cannot be hashed: it is stored wrapped (AES-256-GCM, bound to tenant and key version)
by the tenant's current data key, itself wrapped by KMS (transcripts/keys.py), never in plaintext.
It is shown once, when rotated.
"""
from __future__ import annotations

import secrets

from ..access.principals import Principal
from ..audit.trail import record_event
from ..clock import iso
from ..runtime import runtime
from ..storage.base import WrappedKey
from ..storage.tenants import TenantModel
from ..transcripts.keys import key_ring, wrap
from ..visitors.identities import identity_secret_place
from ..visitors.widget_sessions import new_widget_key
from . import schemas as s
from .settings import change_settings

SECRET_BYTES = 32


def rotate_identity_secret(principal: Principal) -> s.IdentitySecretOut:
    """A new secret replaces the old at once (sessions verified before keep their tokens)."""
    rt, tenant_id = runtime(), principal.tenant_id
    secret = secrets.token_hex(SECRET_BYTES)
    tenant_key = key_ring().tenant_keys.current(tenant_id)
    place = identity_secret_place(tenant_id, tenant_key.version)
    stored = WrappedKey(version=tenant_key.version, created_at=rt.clock.utcnow(),
                        wrapped=wrap(tenant_key.secret, secret.encode(), place))
    # identity_verification is read-only to PUT /v1/settings: only setting a secret turns it on.
    change_settings(tenant_id, {"identity_verification": True}, TenantModel.identity_secret.set(stored))
    record_event(tenant_id, principal.actor, "identity_secret.rotated", tenant_id,
                 {"key_version": tenant_key.version})  # never the secret
    return s.IdentitySecretOut(identity_secret=secret, rotated_at=iso(stored.created_at))


def rotate_widget_key(principal: Principal) -> s.WidgetKeyOut:
    """The old key stops working at once: new sessions with it are 404 (a public key is rotated
    because it is abused; visitors already in keep their tokens)."""
    tenant_id = principal.tenant_id
    widget_key = new_widget_key(tenant_id)
    TenantModel(tenant_id).update(actions=[TenantModel.widget_key.set(widget_key)],
                                  condition=TenantModel.tenant_id.exists())
    record_event(tenant_id, principal.actor, "widget_key.rotated", tenant_id)
    return s.WidgetKeyOut(widget_key=widget_key)
