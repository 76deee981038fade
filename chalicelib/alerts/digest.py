"""The email an admin gets from sla-alerts: one per run listing every conversation claimed for the tenant,
in the admin's language (catalog alerts.json), times in the tenant's time zone, text and HTML.

Metadata only: how many, how long each has waited, since when, who (the visitor's name in the form an
email may show it, else their id) and a link to the conversation in the console. Never a message of it.
"""
from __future__ import annotations

import html
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from ..i18n import negotiate, text
from ..mail import texts
from ..mail.sending import Outcome, send_for_tenant
from ..runtime import runtime
from ..storage.agents import AgentModel
from ..storage.settings import Settings
from ..storage.tenants import TenantModel

# A digest names at most this many (the longest waiting) and counts the rest: an email stays readable
# however long the queue has grown.
LISTED_MAX = 50


@dataclass(frozen=True)
class Waiting:
    conversation_id: str
    visitor_id: str
    visitor_name: str | None
    queued_at: datetime


def send_digest(tenant: TenantModel, settings: Settings, admin: AgentModel, waiting: list[Waiting],
                now: datetime) -> Outcome:
    locale = negotiate(admin.locale, settings.default_locale)
    business = texts.business(tenant.name, locale)
    count = len(waiting)
    listed = sorted(waiting, key=lambda item: item.queued_at)[:LISTED_MAX]  # longest waiting first
    entries = [(_entry(item, settings.timezone, now, locale), console_link(item.conversation_id))
               for item in listed]
    opening = [text(locale, "alerts.greeting", name=admin.name),
               text(locale, "alerts.intro", count=count, business=business,
                    sla=duration(settings.sla_first_response_seconds, locale))]
    more = [text(locale, "alerts.more", count=count - len(listed))] if count > len(listed) else []
    closing = [*more, text(locale, "alerts.times_in", timezone=settings.timezone), text(locale, "alerts.once")]
    open_it = text(locale, "alerts.open")
    plain = [*opening, *(f"{entry}\n{open_it} {link}" for entry, link in entries), *closing]
    rich = "".join(f"<p>{html.escape(line)}</p>" for line in opening) + "<ul>" + "".join(
        f'<li>{html.escape(entry)}<br><a href="{html.escape(link)}">{html.escape(open_it)}</a></li>'
        for entry, link in entries) + "</ul>" + "".join(f"<p>{html.escape(line)}</p>" for line in closing)
    return send_for_tenant(tenant.tenant_id, admin.email, text(locale, "alerts.subject", count=count),
                           plain, locale, lambda link: [text(locale, "alerts.footer", business=business), link],
                           html=rich)


def console_link(conversation_id: str) -> str:
    return f"{runtime().config.public_url}/app#conversation={conversation_id}"


def _entry(item: Waiting, timezone: str, now: datetime, locale: str) -> str:
    # A visitor names themselves: shown only as a name an email may carry (no link, address, number).
    shown = texts.display_name(item.visitor_name) if item.visitor_name else None
    visitor = f"{shown} ({item.visitor_id})" if shown else text(locale, "alerts.visitor_unnamed", id=item.visitor_id)
    return text(locale, "alerts.entry", visitor=visitor, waited=duration(int((now - item.queued_at).total_seconds()),
                                                                          locale),
                since=local_time(item.queued_at, timezone, now))


def local_time(moment: datetime, timezone: str, now: datetime) -> str:
    """In the tenant's zone: the time of day when it is today there, else the date too (ISO order, which
    reads the same in English and Chinese)."""
    zone = ZoneInfo(timezone)
    local = moment.astimezone(zone)
    return local.strftime("%H:%M") if local.date() == now.astimezone(zone).date() else local.strftime("%Y-%m-%d %H:%M")


def duration(seconds: int, locale: str) -> str:
    """Seconds under a minute, minutes under an hour, else hours (and minutes)."""
    if seconds < 60:
        return text(locale, "alerts.seconds", count=seconds)
    if seconds < 3600:
        return text(locale, "alerts.minutes", count=seconds // 60)
    hours, minutes = divmod(seconds // 60, 60)
    return text(locale, "alerts.hours", count=hours) if not minutes else text(
        locale, "alerts.hours_minutes", hours=hours, minutes=minutes)
