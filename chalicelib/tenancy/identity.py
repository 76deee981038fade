"""Rotating the two things a tenant's pages carry: the widget key and the identity secret.

The identity secret verifies the user_hash a widget session sends (visitors/identities.py): only a
verified user_id links a visitor to earlier conversations. The secret must be usable to verify
HMACs, so it cannot be hashed: it is stored wrapped (AES-256-GCM, bound to tenant and key version)
by the tenant's current data key, itself wrapped by KMS (transcripts/keys.py), never in plaintext.
It is shown once, when rotated.
"""
from __future__ import annotations

import secrets

from pynamodb.exceptions import UpdateError

from ..access.principals import Principal
from ..audit.trail import record_event
from ..clock import iso
from ..errors import Conflict
from ..runtime import runtime
from ..storage.base import WrappedKey
from ..storage.helpers import condition_failed
from ..storage.settings import Settings
from ..storage.tenants import TenantModel
from ..transcripts.keys import key_ring, wrap
from ..visitors.identities import identity_secret_place
from ..visitors.widget_sessions import new_widget_key
from . import schemas as s

SECRET_BYTES = 32
SETTINGS_ATTEMPTS = 5


def rotate_identity_secret(principal: Principal) -> s.IdentitySecretOut:
    """A new secret replaces the old at once (sessions verified before keep their tokens)."""
    rt, tenant_id = runtime(), principal.tenant_id
    secret = secrets.token_hex(SECRET_BYTES)
    tenant_key = key_ring().tenant_keys.current(tenant_id)
    place = identity_secret_place(tenant_id, tenant_key.version)
    stored = WrappedKey(version=tenant_key.version, created_at=rt.clock.utcnow(),
                        wrapped=wrap(tenant_key.secret, secret.encode(), place))
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
