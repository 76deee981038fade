"""A visitor's conversation opened (at most one at a time, a limited number an hour), with the bot
first when the tenant has it, and handed over to a person when the bot cannot help."""
from __future__ import annotations

from typing import Any

from pynamodb.exceptions import DoesNotExist, TransactWriteError

from .. import events
from ..access.visitor_limits import busy
from ..bot.handoff import handoff_phrase_in
from ..bot.service import answer_for
from ..clock import iso
from ..errors import Conflict, NotFound, RateLimited
from ..ids import new_id
from ..reports import counters
from ..runtime import runtime
from ..storage.connections import ConnectionModel
from ..storage.conversations import ConversationModel
from ..storage.helpers import refusal_means, transaction
from ..storage.settings import Settings
from ..storage.tenants import TenantModel
from ..storage.visitors import VisitorModel
from ..transcripts.keys import key_ring
from . import assignment, open_slots, routing_log
from .announcements import route_and_announce
from .message_store import post_as
from .parties import BOT


def current_conversation(tenant_id: str, visitor_id: str) -> ConversationModel | None:
    """The visitor's conversation that is not closed, if any: a visitor has at most one, and it is
    always their latest (a new one is only opened once the last is closed). One Query."""
    visitor_key = f"{tenant_id}#{visitor_id}"
    for latest in ConversationModel.visitor_index.query(visitor_key, scan_index_forward=False, limit=1):
        return latest if latest.status != "closed" else None
    return None


def open_conversation(connection: ConnectionModel) -> tuple[ConversationModel, Settings | None]:
    """The visitor's open conversation, or a new one with the bot first when the tenant has it
    enabled and has FAQ entries, else queued for a human. A new one comes with the tenant's
    settings, already read (None for an existing one)."""
    return open_for_visitor(connection.tenant_id, connection.principal_id)


def open_for_visitor(tenant_id: str, visitor_id: str,
                     channel: str | None = None) -> tuple[ConversationModel, Settings | None]:
    """open_conversation for a visitor named by id; `channel` "email" for mail (never the bot first:
    its answers are for a live chat)."""
    current = current_conversation(tenant_id, visitor_id)
    if current is not None:
        return current, None
    for _ in range(MAX_OPEN_ATTEMPTS):
        visitor = VisitorModel.get(tenant_id, visitor_id, consistent_read=True)
        if visitor.erased_at is not None:
            raise NotFound("This visitor was erased.")
        # The index may lag a conversation opened a moment ago (another tab): the visitor item does not.
        latest = _open_or_none(tenant_id, visitor.open_conversation_id)
        if latest is not None:
            return latest, None
        opened = _try_open(visitor, channel)
        if opened is not None:
            return opened
    raise Conflict("The conversation is being opened elsewhere; send again with the same client_msg_id.")


# Racing first messages of one visitor (two tabs): the loser re-reads and joins the winner's conversation.
MAX_OPEN_ATTEMPTS = 3


def _open_or_none(tenant_id: str, conversation_id: str | None) -> ConversationModel | None:
    if conversation_id is None:
        return None
    try:
        conversation = ConversationModel.get(tenant_id, conversation_id, consistent_read=True)
    except DoesNotExist:
        return None
    return conversation if conversation.status != "closed" else None


def _try_open(visitor: VisitorModel, channel: str | None) -> tuple[ConversationModel, Settings] | None:
    """A new conversation, unless the visitor item changed since it was read (None: read it again).
    At most one open conversation per visitor, and a limited number opened per hour, both held by
    the visitor item's condition in the transaction that creates the conversation."""
    now, conversation_id = runtime().clock.utcnow(), new_id("c")
    # Taken before the keys are made: making the visitor's key updates the item held here, pointer
    # included, so a pointer read afterwards may be another tab's brand-new conversation.
    pointer_read = visitor.open_conversation_id
    hour, limit = int(runtime().clock.now() // 3600), runtime().config.conversations_per_visitor_per_hour
    opened_this_hour = int(visitor.opened_in_window or 0) if visitor.opened_window == hour else 0
    if opened_this_hour >= limit:
        raise RateLimited(f"At most {limit} new conversations an hour.",
                          retry_after=int((hour + 1) * 3600 - runtime().clock.now()) + 1)
    tenant_id = visitor.tenant_id
    tenant = TenantModel.get(tenant_id, consistent_read=True)
    settings = Settings.model_validate(tenant.settings)
    bot_first = settings.bot_enabled and tenant.faq_count > 0 and channel is None
    if not bot_first:
        open_slots.refuse_if_full(tenant)
    queued: dict[str, Any] = {} if bot_first else {
        "queued_at": now, "queue_key": assignment.team_key(tenant_id, visitor.team),
        "queue_sort": assignment.queue_sort(0, now, conversation_id), "counted_open": True,
        **assignment.waiting_watch(conversation_id, now)}
    conversation = ConversationModel(
        tenant_id, conversation_id, visitor_id=visitor.visitor_id,
        visitor_key=f"{tenant_id}#{visitor.visitor_id}", channel=channel,
        reply_by_email=True if channel == "email" or visitor.email else None,
        status="bot" if bot_first else "queued", team=visitor.team, priority=0, created_at=now,
        data_keys=key_ring().new_conversation_keys(visitor, conversation_id),
        **queued)
    pointer = VisitorModel.open_conversation_id
    try:
        with transaction() as tx:
            # Erasure sets erased_at first: no conversation is born to a visitor being erased.
            tx.update(visitor, actions=[pointer.set(conversation_id), VisitorModel.opened_window.set(hour),
                                        VisitorModel.opened_in_window.set(opened_this_hour + 1)],
                      condition=VisitorModel.erased_at.does_not_exist()
                      & (pointer.does_not_exist() if pointer_read is None else pointer == pointer_read))
            tx.save(conversation, condition=ConversationModel.conversation_id.does_not_exist())
            if not bot_first:
                open_slots.take(tx, tenant_id)
            routing_log.record(tx, conversation, *(("bot", "faq_bot") if bot_first else ("queued", "new_conversation")))
    except TransactWriteError as err:
        if err.cause_response_code != "TransactionCanceledException":
            raise
        return None  # erased, opened meanwhile, or the tenant is full: the next reads say which
    counters.conversation_opened(conversation)
    events.publish(conversation.tenant_id, "conversation.created",
                   events.about(conversation, created_at=iso(now)))
    return conversation, settings


def hand_to_human(conversation: ConversationModel, reason: str = "asked_for_person",
                  settings: Settings | None = None) -> None:
    """Leave the bot: queue for a person and route (no-op unless the bot holds it). `reason`: the
    routing log's (asked_for_person, bot_had_no_answer); settings: the tenant's, when the caller has
    read them already."""
    now = runtime().clock.utcnow()
    queued = {"status": "queued", "queued_at": now, "counted_open": True,
              "queue_key": assignment.team_key(conversation.tenant_id, conversation.team),
              "queue_sort": assignment.queue_sort(0, now, conversation.conversation_id),
              **assignment.waiting_watch(conversation.conversation_id, now)}
    with refusal_means() as refused, transaction() as tx:
        tx.update(conversation, actions=[getattr(ConversationModel, name).set(value)
                                         for name, value in queued.items()],
                  condition=ConversationModel.status == "bot")
        open_slots.take(tx, conversation.tenant_id)
        routing_log.record(tx, conversation, "queued", reason)
    if refused:
        conversation.refresh(consistent_read=True)
        if conversation.status == "bot":
            raise busy()  # the tenant is full: the bot keeps the visitor for now
        return  # handed over meanwhile
    for name, value in queued.items():  # as written (a transaction returns no item)
        setattr(conversation, name, value)
    route_and_announce(conversation, settings or assignment.tenant_settings(conversation.tenant_id))


def bot_turn(conversation: ConversationModel, client_msg_id: str, text: str) -> None:
    """Answer from the FAQ when confident; otherwise, or when asked for a person (by one of the
    tenant's handoff phrases), hand over."""
    settings = assignment.tenant_settings(conversation.tenant_id)
    found = answer_for(conversation.tenant_id, text, settings.handoff_phrases)
    if found is None:
        asked = handoff_phrase_in(text, settings.handoff_phrases) is not None
        hand_to_human(conversation, "asked_for_person" if asked else "bot_had_no_answer", settings)
        return
    post_as(conversation, BOT, f"bot:{client_msg_id}", found[1])
