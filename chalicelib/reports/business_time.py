"""Seconds of a tenant's business hours between two instants: first response and SLA "in business
hours" leave out the nights, weekends and breaks the tenant is closed (settings.business_hours, read in
settings.timezone; null = always open, so business time is clock time)."""
from __future__ import annotations

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from ..storage.settings import Day, Settings

_DAYS: tuple[Day, ...] = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
# A wait is measured over at most this many local days (open time past them is not counted): keeps
# the loop bounded for a conversation answered months later.
MAX_DAYS = 400


def _at(day: date, hhmm: str, zone: ZoneInfo) -> datetime:
    if hhmm == "24:00":
        return datetime.combine(day + timedelta(days=1), time(0), tzinfo=zone)
    hours, minutes = (int(part) for part in hhmm.split(":"))
    return datetime.combine(day, time(hours, minutes), tzinfo=zone)


def business_seconds(settings: Settings, start: datetime, end: datetime) -> float:
    """Open seconds in [start, end) (0 when end is not after start)."""
    if end <= start:
        return 0.0
    if settings.business_hours is None:
        return (end - start).total_seconds()
    zone = ZoneInfo(settings.timezone)
    day = start.astimezone(zone).date()
    last = min(end.astimezone(zone).date(), day + timedelta(days=MAX_DAYS - 1))
    total = 0.0
    while day <= last:
        for opens, closes in settings.business_hours.get(_DAYS[day.weekday()], []):
            lo, hi = max(start, _at(day, opens, zone)), min(end, _at(day, closes, zone))
            if hi > lo:
                total += (hi - lo).total_seconds()
        day += timedelta(days=1)
    return total
