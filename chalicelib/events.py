"""What happened, told to the tenant's webhooks: the conversation code calls `publish` at each moment.

An event costs one SQS send, and only when some webhook of the tenant subscribes to its type; the
consumer (webhooks/delivery.py) does the rest. Whether anyone subscribes is read from the tenant item's
`webhook_events` (rewritten with every webhook change) and kept SUBSCRIPTIONS_TTL seconds per container,
so a chat message makes no extra DynamoDB request. A webhook change takes effect at once in the
container that made it and within the TTL in the others; the consumer delivers only to webhooks that
still subscribe when it runs, so a deleted webhook gets nothing more.

An event carries ids and metadata, never a message's text: transcripts are encrypted and stay so
(docs/webhooks.md, "Event data").
"""
from __future__ import annotations

import json
import logging
import threading
from typing import Any, Literal, get_args

from botocore.exceptions import BotoCoreError, ClientError
from pynamodb.exceptions import PynamoDBException

from .clock import iso
from .ids import new_id
from .runtime import runtime
from .storage.conversations import ConversationModel
from .storage.tenants import TenantModel

EventType = Literal["conversation.created", "conversation.assigned", "conversation.closed", "message.created",
                    "survey.answered"]
EVENT_TYPES: tuple[str, ...] = get_args(EventType)
SUBSCRIPTIONS_TTL = 30.0
MAX_TENANTS = 4096

log = logging.getLogger("switchboard.events")
_lock = threading.Lock()


def _subscriptions() -> dict[str, tuple[float, frozenset[str]]]:
    """This container's view: tenant -> (valid until, subscribed types)."""
    return runtime().once("webhook_subscriptions", dict)


def subscribed(tenant_id: str) -> frozenset[str]:
    """The event types the tenant's webhooks subscribe to, as this container last read them."""
    now = runtime().clock.now()
    with _lock:
        hit = _subscriptions().get(tenant_id)
    if hit and hit[0] > now:
        return hit[1]
    try:
        tenant = TenantModel.get(tenant_id, attributes_to_get=["webhook_events"])
        types = frozenset(tenant.webhook_events or [])
    except TenantModel.DoesNotExist:
        types = frozenset()
    remember(tenant_id, types)
    return types


def remember(tenant_id: str, types: frozenset[str]) -> None:
    """After a webhook change in this container: its own events follow at once."""
    with _lock:
        known = _subscriptions()
        if len(known) >= MAX_TENANTS:
            known.clear()
        known[tenant_id] = (runtime().clock.now() + SUBSCRIPTIONS_TTL, types)


def publish(tenant_id: str, event_type: EventType, data: dict[str, Any]) -> None:
    """Queue the event for the tenant's webhooks if any subscribes to it. Never fails the caller: what
    happened has happened; an event that cannot be queued is logged (by id, not content) and lost."""
    try:
        if event_type not in subscribed(tenant_id):
            return
        enqueue(runtime().config.webhook_event_queue, {"event": new_event(tenant_id, event_type, data)})
    except (BotoCoreError, ClientError, PynamoDBException) as exc:
        log.warning("event %s of tenant %s not queued: %s", event_type, tenant_id, type(exc).__name__)


def new_event(tenant_id: str, event_type: str, data: dict[str, Any]) -> dict[str, Any]:
    """An event as every webhook receives it (docs/webhooks.md, "Payload")."""
    return {"event_id": new_id("ev"), "type": event_type, "created_at": iso(runtime().clock.utcnow()),
            "tenant_id": tenant_id, "data": data}


def enqueue(queue: str, message: dict[str, Any], delay_seconds: int = 0) -> None:
    """One SQS send (the queue's URL is looked up once per container)."""
    rt = runtime()
    sqs = rt.client("sqs")
    url = rt.once(f"queue_url:{queue}", lambda: sqs.get_queue_url(QueueName=queue)["QueueUrl"])
    sqs.send_message(QueueUrl=url, MessageBody=json.dumps(message), DelaySeconds=delay_seconds)


def about(conversation: ConversationModel, **more: Any) -> dict[str, Any]:
    """An event's data about a conversation: ids and state, never what was said."""
    return {"conversation_id": conversation.conversation_id, "visitor_id": conversation.visitor_id,
            "agent_id": conversation.agent_id, "status": conversation.status,
            "channel": conversation.channel or "web", "team": conversation.team, **more}
