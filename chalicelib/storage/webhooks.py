"""A tenant's webhooks and each event's delivery to each of them."""
from __future__ import annotations

from pynamodb.attributes import NumberAttribute, TTLAttribute, UnicodeAttribute, UTCDateTimeAttribute

from .base import TableModel, WrappedKey, string_list, table_meta


class WebhookModel(TableModel):
    Meta = table_meta("webhooks")
    tenant_id = UnicodeAttribute(hash_key=True)
    webhook_id = UnicodeAttribute(range_key=True)
    url = UnicodeAttribute()
    events = string_list()
    # The signing secret, wrapped by tenant key `version` as the identity secret is (webhooks/signing.py).
    secret = WrappedKey()
    created_at = UTCDateTimeAttribute()


class DeliveryModel(TableModel):
    """One event to one webhook: its body as first sent (every retry sends the same bytes) and its attempts."""
    Meta = table_meta("webhook-deliveries")
    webhook_key = UnicodeAttribute(hash_key=True)  # "<tenant_id>#<webhook_id>"
    delivery_id = UnicodeAttribute(range_key=True)  # "<event_id>.<webhook_id>": one per event and webhook
    tenant_id = UnicodeAttribute()
    webhook_id = UnicodeAttribute()
    event_id = UnicodeAttribute()
    type = UnicodeAttribute()
    body = UnicodeAttribute()
    status = UnicodeAttribute()  # pending | failed (will retry) | succeeded | dead
    attempts = NumberAttribute(default=0)
    last_status_code = NumberAttribute(null=True)
    created_at = UTCDateTimeAttribute()
    next_attempt_at = UTCDateTimeAttribute(null=True)
    # Until when the attempt that claimed it may still be sending (a crashed one is taken over after it).
    claimed_until = UTCDateTimeAttribute(null=True)
    # DynamoDB removes a delivery KEPT_DAYS after its event (the list shows the recent ones; the receiver has it).
    expires_at = TTLAttribute()


KEPT_DAYS = 30


def webhook_key(tenant_id: str, webhook_id: str) -> str:
    return f"{tenant_id}#{webhook_id}"
