"""Identity verification, and rotating the two things a tenant's pages carry: the widget key and the
identity secret.

Identity verification (as Intercom and Chatwoot do it): the tenant's server computes
user_hash = lowercase hex HMAC-SHA256(key = the identity secret's UTF-8 bytes, message = user_id),
and the widget sends user_id and user_hash. Only a verified user_id links a visitor to earlier
conversations (visitors/identities.py); a wrong hash, or none set, is 401.

The secret must be usable to verify HMACs, so it cannot be hashed: it is stored wrapped (AES-256-GCM,
bound to tenant and key version) by the tenant's current data key, itself wrapped by KMS
(transcripts/keys.py), never in plaintext. It is shown once, when rotated.
"""
from __future__ import annotations

import hashlib
import hmac
import secrets

from pynamodb.exceptions import UpdateError

from ..access.principals import Principal
from ..audit.trail import record_event
from ..clock import iso
from ..errors import Conflict, Unauthorized
from ..runtime import runtime
from ..storage.base import WrappedKey
from ..storage.helpers import condition_failed
from ..storage.settings import Settings
from ..storage.tenants import TenantModel
from ..transcripts.keys import Corrupted, key_ring, unwrap, wrap
from . import schemas as s
from .widget_sessions import new_widget_key

SECRET_BYTES = 32
SETTINGS_ATTEMPTS = 5


def _place(tenant_id: str, version: int) -> bytes:
    return f"switchboard.identity-secret.v1|{tenant_id}|{version}".encode()


def verified_user_id(tenant: TenantModel, user_id: str, user_hash: str) -> str:
    """user_id if user_hash is its HMAC under the tenant's identity secret; else 401."""
    refused = Unauthorized("The user's identity could not be verified.", code="identity_not_verified")
    stored = tenant.identity_secret
    if stored is None:
        raise refused
    tenant_key = key_ring().tenant_keys.version(tenant.tenant_id, int(stored.version))
    try:
        secret = unwrap(tenant_key.secret, stored.wrapped, _place(tenant.tenant_id, int(stored.version)))
    except Corrupted:
        raise refused from None
    expected = hmac.new(secret, user_id.encode(), hashlib.sha256).hexdigest()
    if not hmac.compare_digest(expected, user_hash.lower()):
        raise refused
    return user_id


def rotate_identity_secret(principal: Principal) -> s.IdentitySecretOut:
    """A new secret replaces the old at once (sessions verified before keep their tokens)."""
    rt, tenant_id = runtime(), principal.tenant_id
    secret = secrets.token_hex(SECRET_BYTES)
    tenant_key = key_ring().tenant_keys.current(tenant_id)
    stored = WrappedKey(version=tenant_key.version, created_at=rt.clock.utcnow(),
                        wrapped=wrap(tenant_key.secret, secret.encode(), _place(tenant_id, tenant_key.version)))
    _set_with_settings(tenant_id, TenantModel.identity_secret.set(stored), identity_verification=True)
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


def _set_with_settings(tenant_id: str, action, **read_only: object) -> None:
    """One update of the tenant with read-only settings fields changed too, conditioned on the
    settings being as read (PUT /v1/settings merges the same way)."""
    for _ in range(SETTINGS_ATTEMPTS):
        tenant = TenantModel.get(tenant_id, consistent_read=True)
        settings = {**Settings.model_validate(tenant.settings).model_dump(mode="json"), **read_only}
        try:
            tenant.update(actions=[action, TenantModel.settings.set(settings)],
                          condition=TenantModel.settings == tenant.settings)
            return
        except UpdateError as err:
            if not condition_failed(err):
                raise
    raise Conflict("Settings are being changed by someone else; try again.")
