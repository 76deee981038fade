"""Conversation actions behind the WebSocket frames: open, send, typing, read, close, presence."""
from __future__ import annotations

import random
import re
import time
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from pynamodb.exceptions import DoesNotExist, TransactWriteError, UpdateError

from ..audit.trail import record_event, system_actor
from ..clock import iso
from ..errors import ApiError, Conflict, InvalidInput, RateLimited
from ..ids import new_id
from ..realtime.connections import connection_ids_of
from ..realtime.sender import sender
from ..reports import counters
from ..runtime import runtime
from ..storage.agents import AgentModel
from ..storage.connections import ConnectionModel
from ..storage.conversations import ConversationModel, MessageIdModel, MessageModel
from ..storage.helpers import cancellation_codes, condition_failed, transaction
from ..storage.settings import Settings
from ..storage.tenants import TenantModel
from ..storage.visitors import VisitorModel
from ..surveys import service as surveys
from ..surveys.followups import open_follow_up
from ..transcripts.cipher import Revealed, reveal, seal
from ..transcripts.keys import key_ring
from ..transcripts.shredding import shred_actions
from . import open_slots, presence, routing
from .delivery import broadcast
from .hours import is_open

Frame = dict[str, Any]
# Senders racing for one conversation's next seq retry with a little jitter before giving up.
MAX_SEND_ATTEMPTS = 25


@dataclass(frozen=True)
class Author:
    kind: str  # visitor | agent | bot | system
    id: str
    name: str | None = None

    @classmethod
    def of(cls, connection: ConnectionModel) -> "Author":
        return cls(connection.kind, connection.principal_id, connection.name)


BOT = Author("bot", "bot", "Assistant")
SYSTEM = Author("system", "system", None)
# A visitor asking for a person: whole words in space-separated scripts, substrings in CJK.
HANDOFF_WORDS = frozenset({"human", "agent", "person", "operator", "representative", "someone"})
HANDOFF_CJK = ("人工", "客服")


def wants_a_person(text: str) -> bool:
    folded = text.casefold()
    return bool(HANDOFF_WORDS & set(re.findall(r"\w+", folded))) or any(p in folded for p in HANDOFF_CJK)


class NotYours(ApiError):
    """Another party's (or tenant's) conversation looks exactly like a missing one."""
    status, code = 404, "not_found"


def conversation_key(tenant_id: str, conversation_id: str) -> str:
    return f"{tenant_id}#{conversation_id}"


def _now() -> datetime:
    return runtime().clock.utcnow()


def _other_party(connection: ConnectionModel) -> str:
    return "agent" if connection.kind == "visitor" else "visitor"


# --- Which conversation a frame is about -----------------------------------------------------
SUPERVISING_ROLES = frozenset({"supervisor", "admin"})


def conversation_for(connection: ConnectionModel, conversation_id: str,
                     supervisors_too: bool = False) -> ConversationModel:
    """The conversation if this party takes part in it (or, with supervisors_too, supervises the
    tenant); anything else looks exactly like a missing conversation."""
    try:
        conversation = ConversationModel.get(connection.tenant_id, conversation_id, consistent_read=True)
    except DoesNotExist:
        raise NotYours("No such conversation.") from None
    mine = (conversation.visitor_id if connection.kind == "visitor" else conversation.agent_id)
    supervising = supervisors_too and connection.kind == "agent" and connection.role in SUPERVISING_ROLES
    if mine != connection.principal_id and not supervising:
        raise NotYours("No such conversation.")
    return conversation


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
    current = current_conversation(connection.tenant_id, connection.principal_id)
    if current is not None:
        return current, None
    for _ in range(MAX_OPEN_ATTEMPTS):
        visitor = VisitorModel.get(connection.tenant_id, connection.principal_id, consistent_read=True)
        if visitor.erased_at is not None:
            raise NotYours("This visitor was erased.")
        # The index may lag a conversation opened a moment ago (another tab): the visitor item does not.
        latest = _open_or_none(connection.tenant_id, visitor.open_conversation_id)
        if latest is not None:
            return latest, None
        opened = _try_open(connection, visitor)
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


def _try_open(connection: ConnectionModel, visitor: VisitorModel) -> tuple[ConversationModel, Settings] | None:
    """A new conversation, unless the visitor item changed since it was read (None: read it again).
    At most one open conversation per visitor, and a limited number opened per hour, both held by
    the visitor item's condition in the transaction that creates the conversation."""
    now, conversation_id = _now(), new_id("c")
    # Taken before the keys are made: making the visitor's key updates the item held here, pointer
    # included, so a pointer read afterwards may be another tab's brand-new conversation.
    pointer_read = visitor.open_conversation_id
    hour, limit = int(runtime().clock.now() // 3600), runtime().config.conversations_per_visitor_per_hour
    opened_this_hour = int(visitor.opened_in_window or 0) if visitor.opened_window == hour else 0
    if opened_this_hour >= limit:
        raise RateLimited(f"At most {limit} new conversations an hour.",
                          retry_after=int((hour + 1) * 3600 - runtime().clock.now()) + 1)
    tenant = TenantModel.get(connection.tenant_id, consistent_read=True)
    settings = Settings.model_validate(tenant.settings)
    bot_first = settings.bot_enabled and tenant.faq_count > 0
    if not bot_first:
        open_slots.refuse_if_full(tenant)
    queued = {} if bot_first else {
        "queued_at": now, "queue_key": routing.team_key(connection.tenant_id, visitor.team),
        "queue_sort": routing.queue_sort(0, now, conversation_id), "counted_open": True}
    conversation = ConversationModel(
        connection.tenant_id, conversation_id, visitor_id=visitor.visitor_id,
        visitor_key=f"{connection.tenant_id}#{connection.principal_id}",
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
                open_slots.take(tx, connection.tenant_id)
    except TransactWriteError as err:
        if err.cause_response_code != "TransactionCanceledException":
            raise
        return None  # erased, opened meanwhile, or the tenant is full: the next reads say which
    counters.conversation_opened(conversation)
    return conversation, settings


def hand_to_human(conversation: ConversationModel) -> None:
    """Leave the bot: queue for a person and route (no-op unless the bot holds it)."""
    now = _now()
    queued = {"status": "queued", "queued_at": now, "counted_open": True,
              "queue_key": routing.team_key(conversation.tenant_id, conversation.team),
              "queue_sort": routing.queue_sort(0, now, conversation.conversation_id)}
    try:
        with transaction() as tx:
            tx.update(conversation, actions=[getattr(ConversationModel, name).set(value)
                                             for name, value in queued.items()],
                      condition=ConversationModel.status == "bot")
            open_slots.take(tx, conversation.tenant_id)
    except TransactWriteError as err:
        if "ConditionalCheckFailed" not in cancellation_codes(err):
            raise
        conversation.refresh(consistent_read=True)
        if conversation.status == "bot":
            raise open_slots.busy() from None  # the tenant is full: the bot keeps the visitor for now
        return  # handed over meanwhile
    for name, value in queued.items():  # as written (a transaction returns no item)
        setattr(conversation, name, value)
    _route_and_announce(conversation, routing.tenant_settings(conversation.tenant_id))


# --- Messages -------------------------------------------------------------------------------
def send_message(connection: ConnectionModel, conversation_id: str | None, client_msg_id: str,
                 text: str) -> None:
    """Store under the next gap-free seq, ack, deliver; a retried client_msg_id gets the same ack."""
    opened_with: Settings | None = None  # set only when this message opens the conversation
    if conversation_id is not None:
        conversation = conversation_for(connection, conversation_id)
    elif connection.kind == "visitor":
        conversation, opened_with = open_conversation(connection)
    else:
        raise InvalidInput("conversation_id: agents must name the conversation")
    message, stored_now = _store(conversation, Author.of(connection), client_msg_id, text)
    # The sender learns its message is safe before anything else happens.
    sender().send(connection.connection_id, {
        "type": "ack", "client_msg_id": client_msg_id,
        "conversation_id": conversation.conversation_id, "seq": int(message.seq)})
    if not stored_now:
        return
    broadcast(conversation, message_frame(conversation.conversation_id, message, Revealed(text)),
              skip=connection.connection_id)
    if conversation.status == "bot":
        _bot_turn(conversation, client_msg_id, text)
    elif int(message.seq) == 1 and conversation.status == "queued":
        # The opening message routes the conversation, also when it is a retry after a failure
        # that left the conversation opened but the message unstored.
        _route_and_announce(conversation, opened_with or routing.tenant_settings(conversation.tenant_id))


def _bot_turn(conversation: ConversationModel, client_msg_id: str, text: str) -> None:
    """Answer from the FAQ when confident; otherwise, or when asked for a person, hand over."""
    from ..bot.service import answer_for  # deferred: only bot conversations rank the FAQ

    found = None if wants_a_person(text) else answer_for(conversation.tenant_id, text)
    if found is None:
        hand_to_human(conversation)
        return
    post_as(conversation, BOT, f"bot:{client_msg_id}", found[1])


def post_as(conversation: ConversationModel, author: Author, client_msg_id: str, text: str) -> None:
    """A message from the bot or the system, stored and delivered like any other."""
    message, stored_now = _store(conversation, author, client_msg_id, text)
    if stored_now:
        broadcast(conversation, message_frame(conversation.conversation_id, message, Revealed(text)))


def _store(conversation: ConversationModel, author: Author, client_msg_id: str,
           text: str) -> tuple[MessageModel, bool]:
    key = conversation_key(conversation.tenant_id, conversation.conversation_id)
    for _ in range(MAX_SEND_ATTEMPTS):
        if conversation.status == "closed":
            raise Conflict("This conversation is closed.", code="conversation_closed")
        burst = _burst_actions(conversation, author)
        if burst is None:
            earlier = _earlier_message(key, client_msg_id)
            if earlier is not None:
                return earlier, False  # a retry of a stored message is acked, however fast it comes
            limit = runtime().config.messages_per_second
            raise RateLimited(f"More than {limit} messages a second; send it again in a moment with the same "
                              "client_msg_id.", retry_after=1)
        seq, now = int(conversation.last_seq) + 1, _now()
        sealed = seal(conversation, seq, text)
        message = MessageModel(key, seq, sender_kind=author.kind, sender_id=author.id,
                               sender_name=None if author.kind == "visitor" else author.name,
                               sealed=sealed.blob,
                               key_version=sealed.key_version, client_msg_id=client_msg_id, sent_at=now)
        actions = [ConversationModel.last_seq.set(seq), *burst]
        first_response = author.kind == "agent" and conversation.first_response_at is None
        if first_response:
            # Answered: it no longer waits in the due-index for reroute-stale.
            actions += [ConversationModel.first_response_at.set(now), ConversationModel.due_shard.remove(),
                        ConversationModel.due_at.remove()]
        try:
            with transaction() as tx:
                # The seq is taken only if nobody took it first: gap-free and never doubled.
                tx.update(conversation, actions=actions,
                          condition=(ConversationModel.last_seq == seq - 1)
                          & (ConversationModel.status != "closed"))
                tx.save(message, condition=MessageModel.seq.does_not_exist())
                tx.save(MessageIdModel(key, client_msg_id, seq=seq),
                        condition=MessageIdModel.client_msg_id.does_not_exist())
            if first_response:  # once per conversation: the transaction made it the first
                counters.first_response(conversation, now, routing.tenant_settings(conversation.tenant_id))
            return message, True
        except TransactWriteError as err:
            if err.cause_response_code != "TransactionCanceledException":
                raise  # throttled or failed: no race to retry; the sender is told to send again
            earlier = _earlier_message(key, client_msg_id)
            if earlier is not None:
                return earlier, False
            time.sleep(random.uniform(0, 0.005))
            conversation.refresh(consistent_read=True)
    raise Conflict("The conversation is busy; send again with the same client_msg_id.")


BURSTS = {"visitor": ConversationModel.visitor_burst, "agent": ConversationModel.agent_burst}


def _burst_actions(conversation: ConversationModel, author: Author) -> list | None:
    """This message counted in its party's one-second window on the conversation; None over the limit.
    The count is the one read with the conversation, and the send transaction is conditioned on
    last_seq being as read, so racing senders cannot both take the last place in a window."""
    if author.kind not in BURSTS:
        return []  # the bot and system messages answer the parties: never limited
    attribute = BURSTS[author.kind]
    window = int(runtime().clock.now())
    seen_window, _, seen_count = (getattr(conversation, attribute.attr_name) or "").partition("#")
    count = int(seen_count) + 1 if seen_window == str(window) else 1
    if count > runtime().config.messages_per_second:
        return None
    return [attribute.set(f"{window}#{count}")]


def _earlier_message(key: str, client_msg_id: str) -> MessageModel | None:
    try:
        seq = MessageIdModel.get(key, client_msg_id, consistent_read=True).seq
    except DoesNotExist:
        return None
    return MessageModel.get(key, seq, consistent_read=True)


def message_frame(conversation_id: str, message: MessageModel, content: Revealed) -> Frame:
    frame = {"type": "message.new", "conversation_id": conversation_id, "seq": int(message.seq),
             "sender": {"kind": message.sender_kind, "id": message.sender_id, "name": message.sender_name},
             "text": content.text, "sent_at": iso(message.sent_at)}
    # Only a message that cannot be shown says why.
    if content.corrupted:
        frame["corrupted"] = True
    elif content.redacted:
        frame["redacted"] = True
    return frame


# Messages a sync answers at most: no frame costs more decryptions than this (one Query).
SYNC_PAGE = 50


def transcript_page(conversation: ConversationModel, after_seq: int = 0) -> list[Frame]:
    """The next page of messages after `after_seq`, decrypted, as message.new frames in seq order, then
    sync.done with the seq reached; `complete: false` tells the client to sync again from there."""
    key = conversation_key(conversation.tenant_id, conversation.conversation_id)
    frames = [message_frame(conversation.conversation_id, message, reveal(conversation, message))
              for message in MessageModel.query(key, MessageModel.seq > after_seq, consistent_read=True,
                                                limit=SYNC_PAGE)]
    last_seq = frames[-1]["seq"] if frames else after_seq
    return [*frames, {"type": "sync.done", "conversation_id": conversation.conversation_id, "last_seq": last_seq,
                      "complete": last_seq >= int(conversation.last_seq)}]


def replay(connection: ConnectionModel, conversation_id: str, after_seq: int) -> list[Frame]:
    """What a reconnecting client missed, a page at a time."""
    return transcript_page(conversation_for(connection, conversation_id), after_seq)


# --- Routing announcements ------------------------------------------------------------------
def _route_and_announce(conversation: ConversationModel, settings: Settings) -> None:
    """A person if one is free; else the queue position, and outside business hours the offline
    message (the conversation waits in the queue for the first agent to come online)."""
    assignment = routing.route(conversation, settings)
    if assignment:
        announce(assignment)
        return
    _announce_queued(conversation)
    if not is_open(settings, _now()):
        post_as(conversation, SYSTEM, "system:offline", settings.offline_message)


def _announce_queued(conversation: ConversationModel) -> None:
    ahead = ConversationModel.queue_index.count(
        conversation.queue_key, ConversationModel.queue_sort < conversation.queue_sort)
    broadcast(conversation, {"type": "conversation.queued", "conversation_id": conversation.conversation_id,
                             "position": ahead + 1}, only="visitor")


# Waiting visitors told their new position when the queue moves (a bound on the cost per move).
POSITIONS_ANNOUNCED = 20


def announce_queue_positions(tenant_id: str, team: str | None, left_at: str) -> None:
    """Tell those who stood behind `left_at` (the queue_sort of a conversation that left the queue)
    their new place: a chat that opens and is assigned at once left from the back, and nobody moved."""
    queue = routing.team_key(tenant_id, team)
    waiting = ConversationModel.queue_index.query(queue, limit=POSITIONS_ANNOUNCED)
    for position, entry in enumerate(waiting, start=1):
        if entry.queue_sort > left_at:
            sender().send_all(connection_ids_of(tenant_id, "visitor", entry.visitor_id), {
                "type": "conversation.queued", "conversation_id": entry.conversation_id, "position": position})


def announce(assignment: routing.Assignment) -> None:
    conversation, agent = assignment.conversation, assignment.agent
    visitor = VisitorModel.get(conversation.tenant_id, conversation.visitor_id)
    broadcast(conversation, {"type": "conversation.assigned", "conversation_id": conversation.conversation_id,
                             "agent": {"agent_id": agent.agent_id, "name": agent.name},
                             "visitor": {"visitor_id": visitor.visitor_id, "name": visitor.name}})
    agent_connections = connection_ids_of(agent.tenant_id, "agent", agent.agent_id)
    *transcript, done = transcript_page(conversation)
    # The first page; sync.done only when more follow (the console syncs the rest).
    for frame in transcript if done["complete"] else [*transcript, done]:
        sender().send_all(agent_connections, frame)
    if assignment.left_queue_at:  # everyone behind it moves up
        announce_queue_positions(conversation.tenant_id, conversation.team, assignment.left_queue_at)


# --- Typing, read, close, presence ------------------------------------------------------------
def relay_typing(connection: ConnectionModel, conversation_id: str, state: str) -> None:
    conversation = conversation_for(connection, conversation_id)
    broadcast(conversation, {"type": "typing", "conversation_id": conversation_id, "state": state,
                             "from": {"kind": connection.kind, "id": connection.principal_id}},
              only=_other_party(connection))


def mark_read(connection: ConnectionModel, conversation_id: str, seq: int) -> None:
    conversation = conversation_for(connection, conversation_id)
    if seq > conversation.last_seq:
        raise InvalidInput(f"seq: beyond the last message ({int(conversation.last_seq)})")
    position = (ConversationModel.visitor_read_seq if connection.kind == "visitor"
                else ConversationModel.agent_read_seq)
    try:
        # Read positions only move forward, whatever order the frames arrive in.
        conversation.update(actions=[position.set(seq)], condition=position < seq)
    except UpdateError as err:
        if not condition_failed(err):  # an older read mark arriving late is no error
            raise
    broadcast(conversation, {"type": "read", "conversation_id": conversation_id, "seq": seq,
                             "from": {"kind": connection.kind, "id": connection.principal_id}},
              only=_other_party(connection))


def _actor(connection: ConnectionModel) -> dict[str, str]:
    return {"kind": connection.kind, "id": connection.principal_id}


def close(connection: ConnectionModel, conversation_id: str, resolution: str | None) -> None:
    conversation = conversation_for(connection, conversation_id)
    if conversation.status != "closed":
        end(conversation, resolution if connection.kind == "agent" else None, _actor(connection))


def end(conversation: ConversationModel, resolution: str | None, actor: dict[str, str], *,
        shred: bool = False) -> None:
    """Close an open conversation: free its place in the queue or its agent's capacity, tell both
    parties. Retention starts counting now; with shred (erasure) its keys are destroyed at once."""
    now, status_before, left_queue_at = _now(), conversation.status, conversation.queue_sort
    settings = routing.tenant_settings(conversation.tenant_id)
    actions = [ConversationModel.status.set("closed"), ConversationModel.closed_at.set(now),
               ConversationModel.resolution.set(resolution), ConversationModel.queue_key.remove(),
               ConversationModel.queue_sort.remove(), ConversationModel.due_shard.remove(),
               ConversationModel.due_at.remove()]
    # An erased visitor is never surveyed; anyone else is, if the tenant asks for surveys.
    actions += shred_actions(now) if shred else [ConversationModel.retention_key.set(conversation.tenant_id),
                                                 *surveys.schedule_actions(conversation, now, settings)]
    actions += open_slots.closing_actions(conversation)
    if conversation.status == "assigned":
        closed = routing.hand_back(conversation, actions, also=lambda tx: open_slots.give_back(tx, conversation))
    else:
        try:
            with transaction() as tx:
                tx.update(conversation, actions=actions, condition=ConversationModel.status == conversation.status)
                open_slots.give_back(tx, conversation)
            closed = True
        except TransactWriteError as err:
            if "ConditionalCheckFailed" not in cancellation_codes(err):
                raise
            closed = False
    if not closed:
        raise Conflict("The conversation changed meanwhile; try again.")
    record_event(conversation.tenant_id, actor, "conversation.closed", conversation.conversation_id,
                 {"resolution": resolution, "agent_id": conversation.agent_id})
    counters.conversation_closed(conversation, status_before, now, resolution)
    if resolution == "unresolved":
        open_follow_up(conversation.tenant_id, conversation.conversation_id, "unresolved", conversation.agent_id, now)
    broadcast(conversation, {"type": "conversation.closed", "conversation_id": conversation.conversation_id,
                             "resolution": resolution})
    if status_before == "queued":
        announce_queue_positions(conversation.tenant_id, conversation.team, left_queue_at)
    if conversation.agent_id:
        _fill_capacity(conversation.tenant_id, conversation.agent_id, settings)


def reroute(conversation: ConversationModel) -> bool:
    """Take an assigned conversation from its agent (silent or gone), back to the front of the queue."""
    try:
        _move_to_queue(conversation, team=None, actor=system_actor("reroute-stale"), action="conversation.rerouted")
    except Conflict:
        return False
    return True


def transfer(connection: ConnectionModel, conversation_id: str, to_agent_id: str | None,
             to_team: str | None) -> None:
    """To a named agent with spare capacity, or to a team's queue (front, never back to this agent).
    Agents transfer their own conversations; supervisors and admins any of the tenant's."""
    conversation = conversation_for(connection, conversation_id, supervisors_too=True)
    if conversation.status != "assigned":
        raise Conflict("Only a conversation an agent holds can be transferred.", code="not_assigned")
    if to_agent_id is None:
        _move_to_queue(conversation, team=to_team, actor=_actor(connection), action="conversation.transferred")
        return
    if to_agent_id == conversation.agent_id:
        raise InvalidInput("to_agent_id: the conversation is already theirs")
    try:
        target = AgentModel.get(conversation.tenant_id, to_agent_id, consistent_read=True)
    except DoesNotExist:
        raise NotYours("No such agent.") from None
    from_agent_id = conversation.agent_id
    assignment = routing.move_to_agent(conversation, target)
    if assignment is None:
        raise Conflict("That agent is offline or has no free capacity.", code="agent_unavailable")
    record_event(conversation.tenant_id, _actor(connection), "conversation.transferred",
                 conversation.conversation_id, {"from_agent_id": from_agent_id, "to_agent_id": target.agent_id})
    _tell_transferred(conversation, from_agent_id, target.agent_id)
    announce(assignment)
    _fill_capacity(conversation.tenant_id, from_agent_id, routing.tenant_settings(conversation.tenant_id))


def escalate(connection: ConnectionModel, conversation_id: str) -> None:
    """To the next tier's queue: the first agent of that tier with room takes it."""
    conversation = conversation_for(connection, conversation_id)
    if conversation.status != "assigned":
        raise Conflict("Only a conversation an agent holds can be escalated.", code="not_assigned")
    holder = AgentModel.get(conversation.tenant_id, conversation.agent_id)
    _move_to_queue(conversation, team=routing.tier_queue(int(holder.tier) + 1), actor=_actor(connection),
                   action="conversation.escalated")


def _move_to_queue(conversation: ConversationModel, team: str | None, actor: dict[str, str], action: str) -> None:
    from_agent_id = conversation.agent_id
    if not routing.hand_back(conversation, routing.requeue_actions(conversation, team)):
        raise Conflict("The conversation changed meanwhile; try again.")
    record_event(conversation.tenant_id, actor, action, conversation.conversation_id,
                 {"from_agent_id": from_agent_id, "to_team": team})
    conversation.refresh(consistent_read=True)
    settings = routing.tenant_settings(conversation.tenant_id)
    assignment = routing.route(conversation, settings)
    _tell_transferred(conversation, from_agent_id, assignment.agent.agent_id if assignment else None)
    if assignment:
        announce(assignment)
    else:
        _announce_queued(conversation)
    _fill_capacity(conversation.tenant_id, from_agent_id, settings)


def _tell_transferred(conversation: ConversationModel, from_agent_id: str, to_agent_id: str | None) -> None:
    frame = {"type": "conversation.transferred", "conversation_id": conversation.conversation_id,
             "from_agent_id": from_agent_id, "to_agent_id": to_agent_id}
    for party in (("agent", from_agent_id), ("visitor", conversation.visitor_id)):
        sender().send_all(connection_ids_of(conversation.tenant_id, *party), frame)


def _fill_capacity(tenant_id: str, agent_id: str, settings: Settings) -> None:
    for assignment in routing.drain_queue(tenant_id, agent_id, settings):
        announce(assignment)


def set_presence(connection: ConnectionModel, status: str) -> None:
    agent = routing.set_presence(connection.tenant_id, connection.principal_id, status)
    # Going offline hands conversations back on reroute-stale's next run; anything else cancels that.
    if status == "offline":
        presence.schedule_lapse(agent.tenant_id, agent.agent_id, _now())
    else:
        presence.clear_lapse(agent.tenant_id, agent.agent_id)
    sender().send_all((c for c in connection_ids_of(agent.tenant_id, "agent", agent.agent_id)
                       if c != connection.connection_id),
                      {"type": "presence", "agent_id": agent.agent_id, "status": status})
    if status == "online":
        _fill_capacity(agent.tenant_id, agent.agent_id, routing.tenant_settings(agent.tenant_id))
