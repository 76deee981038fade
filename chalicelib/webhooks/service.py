"""A tenant's webhooks: made, listed, deleted, tested, and their deliveries listed.

Every change rewrites the tenant item's webhook_events (what events.publish reads) in the same
transaction as the webhook itself, conditioned on the tenant's webhooks_version as read with the
webhooks: a writer that raced another reads both again, so the list never misses a subscription and
the limit holds.
"""
from __future__ import annotations

from collections.abc import Callable
from urllib.parse import urlsplit

from pynamodb.exceptions import TransactWriteError
from pynamodb.transactions import TransactWrite

from .. import events, ratelimit
from ..access.principals import Principal
from ..audit.trail import record_event
from ..clock import iso
from ..errors import Conflict, NotFound
from ..ids import new_id
from ..runtime import runtime
from ..storage.helpers import decode_cursor, encode_cursor, tenant_page, transaction
from ..storage.tenants import TenantModel, get_tenant
from ..storage.webhooks import DeliveryModel, WebhookModel, webhook_key
from . import schemas as s
from .signing import new_secret

MAX_WEBHOOKS = 10
ATTEMPTS = 5
TESTS_PER_MINUTE = 6  # per webhook: a test is a request to the tenant's own URL, not a way to flood one
TEST_EVENT = "webhook.test"


def webhook_out(hook: WebhookModel) -> s.WebhookOut:
    return s.WebhookOut(webhook_id=hook.webhook_id, url=hook.url, events=list(hook.events),
                        created_at=iso(hook.created_at))


def create(principal: Principal, body: s.WebhookIn) -> s.WebhookCreated:
    tenant_id, webhook_id = principal.tenant_id, new_id("wh")
    secret, stored = new_secret(tenant_id, webhook_id)
    hook = WebhookModel(tenant_id, webhook_id, url=body.url, events=list(body.events), secret=stored,
                        created_at=runtime().clock.utcnow())

    def add(hooks: list[WebhookModel]) -> list[WebhookModel]:
        if len(hooks) >= MAX_WEBHOOKS:
            raise Conflict(f"A tenant has at most {MAX_WEBHOOKS} webhooks.", code="webhook_limit_reached")
        return [*hooks, hook]
    _change(tenant_id, add, lambda tx: tx.save(hook, condition=WebhookModel.webhook_id.does_not_exist()))
    record_event(tenant_id, principal.actor, "webhook.created", webhook_id,
                 {"host": urlsplit(body.url).hostname, "events": list(body.events)})  # never the secret
    return s.WebhookCreated(**webhook_out(hook).model_dump(), secret=secret)


def list_page(principal: Principal, cursor: str | None) -> s.WebhookList:
    hooks, next_cursor = tenant_page(WebhookModel, principal.tenant_id, cursor)
    return s.WebhookList(items=[webhook_out(hook) for hook in hooks], next_cursor=next_cursor)


def delete(principal: Principal, webhook_id: str) -> None:
    tenant_id = principal.tenant_id
    gone = WebhookModel(tenant_id, webhook_id)

    def remove(hooks: list[WebhookModel]) -> list[WebhookModel]:
        if all(hook.webhook_id != webhook_id for hook in hooks):
            raise _no_such_webhook()
        return [hook for hook in hooks if hook.webhook_id != webhook_id]
    _change(tenant_id, remove, lambda tx: tx.delete(gone, condition=WebhookModel.webhook_id.exists()))
    record_event(tenant_id, principal.actor, "webhook.deleted", webhook_id)


def _change(tenant_id: str, change: Callable[[list[WebhookModel]], list[WebhookModel]],
            write: Callable[[TransactWrite], None]) -> None:
    for _ in range(ATTEMPTS):
        version = int(get_tenant(tenant_id).webhooks_version or 0)
        after = change(list(WebhookModel.query(tenant_id, consistent_read=True)))
        subscribed = sorted({event for hook in after for event in hook.events})
        unchanged = TenantModel.webhooks_version == version
        if version == 0:  # tenants from before webhooks have no version yet
            unchanged = unchanged | TenantModel.webhooks_version.does_not_exist()
        try:
            with transaction() as tx:
                write(tx)
                tx.update(TenantModel(tenant_id), actions=[TenantModel.webhook_events.set(subscribed),
                                                           TenantModel.webhooks_version.set(version + 1)],
                          condition=unchanged)
        except TransactWriteError as err:
            if err.cause_response_code != "TransactionCanceledException":
                raise
            continue  # another change came first: read both again
        events.remember(tenant_id, frozenset(subscribed))
        return
    raise Conflict("Webhooks are being changed by someone else; try again.")


def send_test(principal: Principal, webhook_id: str) -> s.TestQueued:
    """A `webhook.test` event for this webhook alone, delivered (signed, retried, listed) as every event,
    so an admin sees their receiver accept one before a real event depends on it."""
    find(principal.tenant_id, webhook_id)
    ratelimit.enforce("webhook-test", f"{principal.tenant_id}#{webhook_id}", TESTS_PER_MINUTE, 60)
    event = events.new_event(principal.tenant_id, TEST_EVENT, {"webhook_id": webhook_id})
    events.enqueue(runtime().config.webhook_event_queue, {"event": event, "only": webhook_id})
    return s.TestQueued(event_id=event["event_id"])


def find(tenant_id: str, webhook_id: str) -> WebhookModel:
    try:
        return WebhookModel.get(tenant_id, webhook_id, consistent_read=True)
    except WebhookModel.DoesNotExist:
        raise _no_such_webhook() from None


def deliveries_page(principal: Principal, webhook_id: str, cursor: str | None) -> s.DeliveryList:
    """Newest first (a delivery's id starts with its event's, which sorts by time)."""
    find(principal.tenant_id, webhook_id)  # another tenant's webhook is missing, not empty
    key = webhook_key(principal.tenant_id, webhook_id)
    page = DeliveryModel.query(key, scan_index_forward=False, limit=50, last_evaluated_key=decode_cursor(
        cursor, {"webhook_key", "delivery_id"}, {"webhook_key": key}))
    items = [delivery_out(delivery) for delivery in page]
    return s.DeliveryList(items=items, next_cursor=encode_cursor(page.last_evaluated_key))


def delivery_out(delivery: DeliveryModel) -> s.DeliveryOut:
    return s.DeliveryOut(delivery_id=delivery.delivery_id, event_id=delivery.event_id, type=delivery.type,
                         status=delivery.status, attempts=int(delivery.attempts),
                         last_status_code=None if delivery.last_status_code is None else int(delivery.last_status_code),
                         created_at=iso(delivery.created_at),
                         next_attempt_at=iso(delivery.next_attempt_at) if delivery.next_attempt_at else None)


def _no_such_webhook() -> NotFound:
    return NotFound("No such webhook.")
