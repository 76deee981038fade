"""Visitors' own budgets: the public widget key never spends what the tenant's staff need.

Staff and API keys share their tenant's budget of REST requests (SWITCHBOARD_TENANT_REQUESTS_PER_MINUTE).
Visitors, whom anyone holding the widget key can mint, count elsewhere:
- widget sessions per source address and REST requests per visitor and per source address;
- new visitors per tenant, and visitor conversations waiting for or with a person per tenant
  (conversations/open_slots.py): past either ceiling a new visitor gets 429 `widget_busy`.
A source address is an IPv4 address or an IPv6 /64 (one host commonly holds a whole /64).
"""
from __future__ import annotations

import ipaddress

from .. import ratelimit
from ..errors import RateLimited
from ..runtime import runtime

# The one text a visitor reads when the tenant is at a ceiling (the widget shows the message as is).
BUSY_MESSAGE = "We're very busy right now. Please try again in a minute."
WINDOW_SECONDS = 60


class WidgetBusy(RateLimited):
    """The tenant is at a ceiling for new visitors: never its staff's problem, nor another visitor's."""
    code = "widget_busy"


def source_key(source_ip: str) -> str:
    """What one source is counted as: an IPv4 address, or the /64 of an IPv6 one."""
    try:
        address = ipaddress.ip_address(source_ip)
    except ValueError:
        return source_ip  # not an address (API Gateway always gives one): counted as it is
    if address.version == 6 and address.ipv4_mapped is not None:
        return str(address.ipv4_mapped)
    if address.version == 6:
        return str(ipaddress.ip_network(f"{address}/64", strict=False))
    return str(address)


def count_session_start(source_ip: str) -> None:
    """One widget session (new or resumed) from this source: 429 `rate_limited` past its limit."""
    ratelimit.enforce("widget-sessions-source", source_key(source_ip),
                      runtime().config.widget_sessions_per_minute, WINDOW_SECONDS)


def admit_new_visitor(tenant_id: str) -> None:
    """One new visitor for this tenant: 429 `widget_busy` past the tenant's ceiling."""
    try:
        ratelimit.enforce("tenant-new-visitors", tenant_id, runtime().config.tenant_new_visitors_per_minute,
                          WINDOW_SECONDS)
    except RateLimited as refused:
        raise busy(int(refused.headers["Retry-After"])) from None


def busy(retry_after: int = WINDOW_SECONDS) -> WidgetBusy:
    return WidgetBusy(BUSY_MESSAGE, retry_after=retry_after)


def count_visitor_request(tenant_id: str, visitor_id: str, source_ip: str) -> None:
    """One authenticated REST request of a visitor: per visitor, then per source address."""
    ratelimit.enforce("visitor-requests", f"{tenant_id}#{visitor_id}", runtime().config.visitor_requests_per_minute,
                      WINDOW_SECONDS)
    count_source_request(source_ip)


def count_source_request(source_ip: str) -> None:
    """One visitor REST request from this source, signed in or not (the widget's config read)."""
    ratelimit.enforce("visitor-source-requests", source_key(source_ip),
                      runtime().config.visitor_source_requests_per_minute, WINDOW_SECONDS)
