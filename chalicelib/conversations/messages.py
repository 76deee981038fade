"""The frames a party sends about messages: send, typing, read, and the sync that replays what a
reconnecting client missed."""
from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from ..attachments.on_messages import refs_for_message
from ..errors import InvalidInput
from ..realtime.sender import sender
from ..storage.connections import ConnectionModel
from ..storage.conversations import ConversationModel, MessageModel
from ..storage.helpers import refusal_means
from ..storage.settings import Settings
from ..transcripts.cipher import Revealed
from . import assignment, email_replies
from .announcements import route_and_announce
from .delivery import broadcast
from .message_store import last_message_seq, message_created, message_frame, store, transcript_page
from .opening import bot_turn, open_conversation
from .parties import Author, Frame, actor_of, conversation_for, other_party


def send_message(connection: ConnectionModel, conversation_id: str | None, client_msg_id: str,
                 text: str, attachment_ids: Sequence[str] = ()) -> None:
    """Store under the next gap-free seq, ack, deliver; a retried client_msg_id gets the same ack."""
    opened_with: Settings | None = None  # set only when this message opens the conversation
    if conversation_id is not None:
        conversation = conversation_for(connection, conversation_id)
    elif attachment_ids:
        raise InvalidInput("conversation_id: name the conversation the files were uploaded to")
    elif connection.kind == "visitor":
        conversation, opened_with = open_conversation(connection)
    else:
        raise InvalidInput("conversation_id: agents must name the conversation")
    attachments = refs_for_message(conversation, attachment_ids)  # one BatchGetItem, only with files
    message, stored_now = store(conversation, Author.of(connection), client_msg_id, text, attachments)
    # The sender learns its message is safe before anything else happens.
    sender().send(connection.connection_id, {
        "type": "ack", "client_msg_id": client_msg_id,
        "conversation_id": conversation.conversation_id, "seq": int(message.seq)})
    if stored_now:
        deliver_stored(conversation, message, text, opened_with, skip=connection.connection_id, attachments=attachments)


def deliver_stored(conversation: ConversationModel, message: MessageModel, text: str,
                   opened_with: Settings | None = None, skip: str | None = None,
                   attachments: Sequence[dict[str, Any]] = ()) -> None:
    """What follows a message stored for the first time (from a socket or an email): delivered to the
    parties; an agent's goes out by email too when the visitor is answered that way; the bot answers,
    or the opening message routes the conversation."""
    reached = broadcast(conversation, message_frame(conversation.conversation_id, message,
                                                    Revealed(text, attachments=tuple(attachments))), skip=skip)
    message_created(conversation, message)
    if message.sender_kind == "agent":
        email_replies.queue_if_away(conversation, message, visitor_here=bool(reached.get("visitor")))
    if conversation.status == "bot" and text:
        bot_turn(conversation, message.client_msg_id or f"seq:{message.seq}", text)
    elif int(message.seq) == 1 and conversation.status == "queued":
        # The opening message routes the conversation, also when it is a retry after a failure
        # that left the conversation opened but the message unstored.
        route_and_announce(conversation, opened_with or assignment.tenant_settings(conversation.tenant_id))


def replay(connection: ConnectionModel, conversation_id: str, after_seq: int) -> list[Frame]:
    """What a reconnecting client missed, a page at a time."""
    return transcript_page(conversation_for(connection, conversation_id), after_seq)


def relay_typing(connection: ConnectionModel, conversation_id: str, state: str) -> None:
    conversation = conversation_for(connection, conversation_id)
    broadcast(conversation, {"type": "typing", "conversation_id": conversation_id, "state": state,
                             "from": actor_of(connection)},
              only=other_party(connection))


def mark_read(connection: ConnectionModel, conversation_id: str, seq: int) -> None:
    conversation = conversation_for(connection, conversation_id)
    # The conversation's last_seq is at most the last message's (the close records it): read only beyond it.
    if seq > conversation.last_seq and seq > (last := last_message_seq(conversation)):
        raise InvalidInput(f"seq: beyond the last message ({last})")
    position = (ConversationModel.visitor_read_seq if connection.kind == "visitor"
                else ConversationModel.agent_read_seq)
    # Read positions only move forward, whatever order the frames arrive in; an older read mark
    # arriving late is no error.
    with refusal_means():
        conversation.update(actions=[position.set(seq)], condition=position < seq)
    broadcast(conversation, {"type": "read", "conversation_id": conversation_id, "seq": seq,
                             "from": actor_of(connection)},
              only=other_party(connection))
