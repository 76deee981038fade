"""Closing a conversation: by one of its parties, or by erasure (which shreds it at once)."""
from __future__ import annotations

from pynamodb.expressions.update import Action
from pynamodb.transactions import TransactWrite

from .. import events
from ..audit.trail import record_event
from ..clock import iso
from ..errors import Conflict
from ..reports import counters
from ..runtime import runtime
from ..storage.connections import ConnectionModel
from ..storage.conversations import ConversationModel
from ..storage.helpers import refusal_means, transaction
from ..surveys import service as surveys
from ..surveys.followups import open_follow_up
from ..transcripts.shredding import shred_actions
from . import assignment, open_slots
from .announcements import announce_queue_positions, fill_capacity
from .delivery import broadcast
from .message_store import MAX_SEND_ATTEMPTS, MessagesMoved, close_marker, last_message_seq
from .parties import actor_of, conversation_for


def close(connection: ConnectionModel, conversation_id: str, resolution: str | None) -> None:
    conversation = conversation_for(connection, conversation_id)
    if conversation.status != "closed":
        end(conversation, resolution if connection.kind == "agent" else None, actor_of(connection))


def _close_after(conversation: ConversationModel, last_seq: int, actions: list[Action]) -> bool:
    """The closing write with the close marker after `last_seq`, in one transaction: a message racing
    the close either takes that seq first (MessagesMoved: close again after it) or is refused."""
    marker = close_marker(conversation, last_seq)

    def also(tx: TransactWrite) -> None:
        open_slots.give_back(tx, conversation)
        marker(tx)

    if conversation.status == "assigned":
        return assignment.hand_back(conversation, actions, also=also)
    with refusal_means() as refused, transaction() as tx:
        tx.update(conversation, actions=actions, condition=ConversationModel.status == conversation.status)
        also(tx)
    if refused and last_message_seq(conversation) != last_seq:
        raise MessagesMoved
    return not refused


def end(conversation: ConversationModel, resolution: str | None, actor: dict[str, str], *,
        shred: bool = False) -> None:
    """Close an open conversation: free its place in the queue or its agent's capacity, tell both
    parties. Retention starts counting now; with shred (erasure) its keys are destroyed at once."""
    now, status_before, left_queue_at = runtime().clock.utcnow(), conversation.status, conversation.queue_sort
    settings = assignment.tenant_settings(conversation.tenant_id)
    actions: list[Action] = [
        ConversationModel.status.set("closed"), ConversationModel.closed_at.set(now),
        # pynamodb types set() without None; a null=True attribute stores it as NULL.
        ConversationModel.resolution.set(resolution),  # type: ignore[arg-type]
        ConversationModel.queue_key.remove(), ConversationModel.queue_sort.remove(),
        ConversationModel.due_shard.remove(), ConversationModel.due_at.remove(), ConversationModel.held_by.remove()]
    # An erased visitor is never surveyed; anyone else is, if the tenant asks for surveys.
    actions += shred_actions(now) if shred else [ConversationModel.retention_key.set(conversation.tenant_id),
                                                 *surveys.schedule_actions(conversation, now, settings)]
    actions += open_slots.closing_actions(conversation)
    for _ in range(MAX_SEND_ATTEMPTS):
        last_seq = last_message_seq(conversation)
        try:
            closed = _close_after(conversation, last_seq, [*actions, ConversationModel.last_seq.set(last_seq)])
            break
        except MessagesMoved:
            continue  # a message came in just before: the close goes after it
    else:
        closed = False
    if not closed:
        raise Conflict("The conversation changed meanwhile; try again.")
    record_event(conversation.tenant_id, actor, "conversation.closed", conversation.conversation_id,
                 {"resolution": resolution, "agent_id": conversation.agent_id})
    counters.conversation_closed(conversation, status_before, now, resolution)
    events.publish(conversation.tenant_id, "conversation.closed",
                   events.about(conversation, status="closed", resolution=resolution, last_seq=last_seq,
                                closed_at=iso(now)))
    if resolution == "unresolved":
        open_follow_up(conversation.tenant_id, conversation.conversation_id, "unresolved", conversation.agent_id, now)
    broadcast(conversation, {"type": "conversation.closed", "conversation_id": conversation.conversation_id,
                             "resolution": resolution})
    if status_before == "queued":
        announce_queue_positions(conversation.tenant_id, conversation.team, left_queue_at)
    if conversation.agent_id:
        fill_capacity(conversation.tenant_id, conversation.agent_id, settings)
