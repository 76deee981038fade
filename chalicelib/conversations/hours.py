"""Is the tenant open? Business hours are evaluated in the tenant's own time zone."""
from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from ..storage.settings import Day, Settings

_DAYS: tuple[Day, ...] = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


def is_open(settings: Settings, at: datetime) -> bool:
    if settings.business_hours is None:
        return True  # null means always open
    local = at.astimezone(ZoneInfo(settings.timezone))
    now = local.strftime("%H:%M")
    return any(start <= now < end for start, end in settings.business_hours.get(_DAYS[local.weekday()], []))
