"""A tenant's settings: read whole, changed by any subset (validated as the whole would be)."""
from __future__ import annotations

from pynamodb.exceptions import UpdateError

from ..access.principals import Principal
from ..audit.trail import record_event
from ..errors import Conflict
from ..storage.helpers import condition_failed
from ..storage.settings import Settings
from ..storage.tenants import TenantModel, get_tenant
from . import schemas as s


def get_settings(principal: Principal) -> Settings:
    return Settings.model_validate(get_tenant(principal.tenant_id).settings)


def update_settings(principal: Principal, patch: s.SettingsPatch) -> Settings:
    # Optimistic: re-read and retry if another writer changed the settings in between.
    for _ in range(5):
        tenant = get_tenant(principal.tenant_id)
        current = Settings.model_validate(tenant.settings)
        merged = Settings.model_validate({**current.model_dump(mode="json"),
                                            **patch.model_dump(mode="json", exclude_unset=True)})
        try:
            tenant.update(actions=[TenantModel.settings.set(merged.model_dump(mode="json"))],
                          condition=TenantModel.settings == tenant.settings)
        except UpdateError as err:
            if condition_failed(err):
                continue
            raise
        changed = sorted(name for name, value in merged.model_dump(mode="json").items()
                         if current.model_dump(mode="json").get(name) != value)
        record_event(principal.tenant_id, principal.actor, "settings.updated", principal.tenant_id,
                     {"fields": changed})
        return merged
    raise Conflict("Settings are being changed by someone else; try again.")
