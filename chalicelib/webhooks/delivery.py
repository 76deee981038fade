"""The webhook-events queue's consumer: each event fanned out to the tenant's subscribed webhooks, each
delivery sent, signed, and retried with backoff until it succeeds or has failed for RETRY_WINDOW.

Messages on the queue:
    {"event": {event_id, type, created_at, tenant_id, data}}    from events.publish: fan out
    {"event": {... "type": "webhook.test" ...}, "only": id}      an admin's test: that webhook alone
    {"delivery": {tenant_id, webhook_id, delivery_id, attempt}}  a retry, due at the item's next_attempt_at

A retry waits in the queue itself: SQS delays a message at most 900 s, so a longer wait is served in
steps (a message that comes before its delivery is due goes back with the time left). No scheduled job
and no due-time index: nothing polls while nothing fails.

At least once: every attempt sends the same body (same event_id); a receiver deduplicates by it. Two
copies of one message (SQS delivers at least once) do not send twice: an attempt first claims the
delivery item (attempts n-1 -> n, conditionally); the loser stops. A claim whose sender died (it never
recorded an outcome) can be taken over after CLAIM_SECONDS.
"""
from __future__ import annotations

import json
import logging
import math
from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Any

from ..events import enqueue
from ..outbound.http import FetchError, fetch
from ..runtime import runtime
from ..storage.helpers import refusal_means
from ..storage.webhooks import KEPT_DAYS, DeliveryModel, WebhookModel, webhook_key
from .signing import HEADER, open_secret, signature

MAX_WAIT_SECONDS = 3600
RETRY_WINDOW_SECONDS = 24 * 3600
SQS_MAX_DELAY = 900
CLAIM_SECONDS = 60
ANSWER_MAX_BYTES = 64 * 1024
OPEN = ("pending", "failed")

log = logging.getLogger("switchboard.webhooks")


def retry_wait(failed_attempt: int) -> int:
    """Seconds before the next attempt after attempt `failed_attempt` (1-based) failed: the first wait
    (webhook_retry_seconds, 30 s when deployed), doubling, at most an hour."""
    return int(min(runtime().config.webhook_retry_seconds * 2 ** (failed_attempt - 1), MAX_WAIT_SECONDS))


def handle_messages(bodies: Iterable[str]) -> None:
    for body in bodies:
        message = json.loads(body)
        if "event" in message:
            fan_out(message["event"], only=message.get("only"))
        else:
            retry(message["delivery"])


def fan_out(event: dict[str, Any], only: str | None = None) -> None:
    """One delivery per webhook that subscribes to the event now (one Query of the tenant's webhooks),
    or to the webhook `only` (a test event, which nobody subscribes to)."""
    tenant_id, now = event["tenant_id"], runtime().clock.utcnow()
    body = json.dumps(event, separators=(",", ":"), sort_keys=True)
    for hook in WebhookModel.query(tenant_id, consistent_read=True):
        wanted = (hook.webhook_id == only) if only else (event["type"] in hook.events)
        if not wanted:
            continue
        delivery = DeliveryModel(webhook_key(tenant_id, hook.webhook_id), f"{event['event_id']}.{hook.webhook_id}",
                                 tenant_id=tenant_id, webhook_id=hook.webhook_id, event_id=event["event_id"],
                                 type=event["type"], body=body, status="pending", attempts=0, created_at=now,
                                 next_attempt_at=now, expires_at=now + timedelta(days=KEPT_DAYS))
        with refusal_means():  # this event came before: its delivery carries on from where it is
            delivery.save(condition=DeliveryModel.delivery_id.does_not_exist())
        attempt(delivery, 1, hook)


def retry(wanted: dict[str, Any]) -> None:
    try:
        delivery = DeliveryModel.get(webhook_key(wanted["tenant_id"], wanted["webhook_id"]), wanted["delivery_id"],
                                     consistent_read=True)
    except DeliveryModel.DoesNotExist:
        return
    if delivery.status not in OPEN:
        return
    now = runtime().clock.utcnow()
    if delivery.next_attempt_at is not None and now < delivery.next_attempt_at:
        _enqueue({"delivery": wanted}, (delivery.next_attempt_at - now).total_seconds())
        return
    attempt(delivery, int(wanted["attempt"]), None)


def attempt(delivery: DeliveryModel, number: int, hook: WebhookModel | None) -> None:
    """Attempt `number` of the delivery, if this caller wins its claim; its outcome recorded."""
    now = runtime().clock.utcnow()
    if not _claimed(delivery, number, now):
        return
    if hook is None:
        try:
            hook = WebhookModel.get(delivery.tenant_id, delivery.webhook_id, consistent_read=True)
        except WebhookModel.DoesNotExist:  # deleted since: nobody to deliver to
            _record(delivery, "dead", None, None)
            return
    code = _send(hook, delivery.body.encode())
    if code is not None and 200 <= code < 300:
        _record(delivery, "succeeded", code, None)
    elif (now - delivery.created_at).total_seconds() >= RETRY_WINDOW_SECONDS:
        _record(delivery, "dead", code, None)
        _enqueue({"delivery": _address(delivery, number), "status": "dead"}, 0, dead=True)
    else:
        wait = retry_wait(number)
        _record(delivery, "failed", code, now + timedelta(seconds=wait))
        _enqueue({"delivery": _address(delivery, number + 1)}, wait)


def _claimed(delivery: DeliveryModel, number: int, now: datetime) -> bool:
    fresh = DeliveryModel.attempts == number - 1
    abandoned = (DeliveryModel.attempts == number) & (DeliveryModel.claimed_until < now)
    with refusal_means() as lost:
        delivery.update(actions=[DeliveryModel.attempts.set(number),
                                 DeliveryModel.claimed_until.set(now + timedelta(seconds=CLAIM_SECONDS))],
                        condition=DeliveryModel.status.is_in(*OPEN) & (fresh | abandoned))
    return not lost


def _send(hook: WebhookModel, body: bytes) -> int | None:
    """The receiver's status code; None when it could not be reached or was refused (outbound/http.py)."""
    secret = open_secret(hook.tenant_id, hook.webhook_id, hook.secret)
    headers = {"Content-Type": "application/json", "User-Agent": "Switchboard-Webhooks/1",
               HEADER: signature(secret, int(runtime().clock.now()), body)}
    try:
        return fetch(hook.url, data=body, headers=headers, max_bytes=ANSWER_MAX_BYTES).status
    except FetchError as exc:
        log.info("webhook %s of tenant %s not reached: %s", hook.webhook_id, hook.tenant_id, exc)
        return None


def _record(delivery: DeliveryModel, status: str, code: int | None, next_attempt_at: datetime | None) -> None:
    actions: list[Any] = [DeliveryModel.status.set(status), DeliveryModel.claimed_until.remove(),
                          DeliveryModel.last_status_code.set(code) if code is not None
                          else DeliveryModel.last_status_code.remove(),
                          DeliveryModel.next_attempt_at.set(next_attempt_at) if next_attempt_at is not None
                          else DeliveryModel.next_attempt_at.remove()]
    delivery.update(actions=actions)


def _address(delivery: DeliveryModel, number: int) -> dict[str, Any]:
    return {"tenant_id": delivery.tenant_id, "webhook_id": delivery.webhook_id,
            "delivery_id": delivery.delivery_id, "attempt": number}


def _enqueue(message: dict[str, Any], delay: float, dead: bool = False) -> None:
    config = runtime().config
    enqueue(config.webhook_dead_letter_queue if dead else config.webhook_event_queue, message,
            max(0, min(SQS_MAX_DELAY, math.ceil(delay))))
