"""Rotating a tenant's key: a new version for everything sealed from now on; old ones stay to open
what they sealed."""
from __future__ import annotations

from pynamodb.exceptions import DoesNotExist

from ..access.principals import Principal
from ..audit.trail import record_event
from ..clock import iso
from ..errors import Conflict, NotFound
from ..runtime import runtime
from ..storage.helpers import refusal_means
from ..storage.tenants import TenantModel
from .keys import key_ring, new_tenant_key
from .schemas import KeysOut, KeyVersionOut

# Each wrapped version takes about 200 bytes of the tenant item (400 KB at most).
MAX_KEY_VERSIONS = 500


def _tenant(tenant_id: str) -> TenantModel:
    try:
        return TenantModel.get(tenant_id, consistent_read=True)
    except DoesNotExist:
        raise NotFound("No such tenant.") from None


def keys_out(tenant: TenantModel) -> KeysOut:
    current = int(tenant.current_key_version)
    return KeysOut(current_version=current, versions=[
        KeyVersionOut(version=int(k.version), created_at=iso(k.created_at), current=int(k.version) == current)
        for k in tenant.data_keys])


def list_keys(principal: Principal) -> KeysOut:
    return keys_out(_tenant(principal.tenant_id))


def rotate(principal: Principal) -> KeysOut:
    rt = runtime()
    tenant = _tenant(principal.tenant_id)
    if len(tenant.data_keys) >= MAX_KEY_VERSIONS:
        raise Conflict(f"This tenant already has {MAX_KEY_VERSIONS} key versions.", code="key_limit_reached")
    version = int(tenant.current_key_version) + 1
    key = new_tenant_key(rt, tenant.tenant_id, version)
    # Two admins rotating at once make one new version, not two: the second is told so.
    with refusal_means(Conflict("The key was rotated meanwhile; read GET /v1/keys.", code="rotation_conflict")):
        tenant.update(actions=[TenantModel.data_keys.set(TenantModel.data_keys.append([key])),
                               TenantModel.current_key_version.set(version)],
                      condition=TenantModel.current_key_version == version - 1)
    key_ring().tenant_keys.forget_current(tenant.tenant_id)
    record_event(tenant.tenant_id, principal.actor, "key.rotated", tenant.tenant_id, {"version": version})
    return keys_out(tenant)
