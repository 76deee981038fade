"""Request and response models for webhooks and their deliveries."""
from __future__ import annotations

import ipaddress
from typing import Annotated, Literal

from pydantic import AfterValidator, Field

from ..events import EVENT_TYPES, EventType
from ..outbound.http import LOOPBACK_HOST, FetchError, checked_url, is_public
from ..runtime import runtime
from ..web.schemas import Input, Output, Page


def _deliverable(url: str) -> str:
    """https (http://127.0.0.1 on the local stack only), no credentials; a literal address must be public.
    A name is resolved and judged again at every send (outbound/http.py), so rebinding it changes nothing."""
    allow_loopback = runtime().config.outbound_allow_loopback
    try:
        _, host, _ = checked_url(url, allow_loopback=allow_loopback)
    except FetchError as exc:
        raise ValueError(str(exc)) from None
    try:
        literal = ipaddress.ip_address(host)
    except ValueError:
        return url
    if not is_public(str(literal)) and not (allow_loopback and host == LOOPBACK_HOST):
        raise ValueError("the address is not a public one")
    return url


def _distinct(events: list[str]) -> list[str]:
    return sorted(set(events))


class WebhookIn(Input):
    url: Annotated[str, Field(min_length=8, max_length=2000, description="https:// only when deployed"),
                   AfterValidator(_deliverable)]
    events: Annotated[list[EventType], Field(min_length=1, max_length=len(EVENT_TYPES)),
                      AfterValidator(_distinct)]


class WebhookOut(Output):
    webhook_id: str
    url: str
    events: list[str]
    created_at: str


class WebhookCreated(WebhookOut):
    secret: str = Field(description="signs every delivery (Switchboard-Signature); shown this once")


class WebhookList(Page):
    items: list[WebhookOut]


class TestQueued(Output):
    event_id: str = Field(description="the test event's id: its delivery is listed under the webhook's deliveries")


class DeliveryOut(Output):
    delivery_id: str
    event_id: str
    type: str
    status: Literal["pending", "failed", "succeeded", "dead"]
    attempts: int
    last_status_code: int | None
    created_at: str
    next_attempt_at: str | None


class DeliveryList(Page):
    items: list[DeliveryOut]
