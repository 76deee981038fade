"""A tenant's settings: read whole, changed by any subset (validated as the whole would be)."""
from __future__ import annotations

from typing import Any

from pynamodb.expressions.update import Action

from ..access.principals import Principal
from ..audit.trail import record_event
from ..email_channel.addresses import inbound_address
from ..errors import Conflict
from ..storage.helpers import refusal_means
from ..storage.settings import Settings
from ..storage.tenants import TenantModel, get_tenant
from . import schemas as s

DERIVED = {"inbound_email_address"}  # shown, never stored
# Writers racing on one tenant's settings: each loser reads them again, this many times in all.
ATTEMPTS = 5


def get_settings(principal: Principal) -> Settings:
    return _shown(principal.tenant_id, Settings.model_validate(get_tenant(principal.tenant_id).settings))


def _shown(tenant_id: str, settings: Settings) -> Settings:
    """The settings as answered: with the read-only fields derived rather than stored."""
    return settings.model_copy(update={"inbound_email_address": inbound_address(tenant_id)})


def update_settings(principal: Principal, patch: s.SettingsPatch) -> Settings:
    before, after = change_settings(principal.tenant_id, patch.model_dump(mode="json", exclude_unset=True))
    changed = sorted(name for name, value in after.model_dump(mode="json").items()
                     if before.model_dump(mode="json").get(name) != value)
    record_event(principal.tenant_id, principal.actor, "settings.updated", principal.tenant_id,
                 {"fields": changed})
    return _shown(principal.tenant_id, after)


def change_settings(tenant_id: str, changes: dict[str, Any], *also: Action) -> tuple[Settings, Settings]:
    """The settings before and after `changes` (the whole validated), written by one update of the
    tenant together with `also`. Optimistic: the update is conditioned on the settings being as
    read, and read again when another writer changed them in between."""
    for _ in range(ATTEMPTS):
        tenant = get_tenant(tenant_id)
        before = Settings.model_validate(tenant.settings)
        after = Settings.model_validate({**before.model_dump(mode="json"), **changes})
        with refusal_means() as raced:
            tenant.update(actions=[*also, TenantModel.settings.set(after.model_dump(mode="json", exclude=DERIVED))],
                          condition=TenantModel.settings == tenant.settings)
        if not raced:
            return before, after
    raise Conflict("Settings are being changed by someone else; try again.")
