"""A conversation's messages: each stored under the next gap-free seq, and read back a page at a time as frames."""
from __future__ import annotations

import random
import time

from pynamodb.exceptions import DoesNotExist, TransactWriteError
from pynamodb.expressions.update import Action

from ..clock import iso
from ..errors import Conflict, RateLimited
from ..reports import counters
from ..runtime import runtime
from ..storage.conversations import ConversationModel, MessageIdModel, MessageModel
from ..storage.helpers import transaction
from ..transcripts.cipher import Revealed, reveal, seal
from . import assignment
from .delivery import broadcast
from .parties import Author, Frame, conversation_key

# Senders racing for one conversation's next seq retry with a little jitter before giving up.
MAX_SEND_ATTEMPTS = 25


def post_as(conversation: ConversationModel, author: Author, client_msg_id: str, text: str) -> None:
    """A message from the bot or the system, stored and delivered like any other."""
    message, stored_now = store(conversation, author, client_msg_id, text)
    if stored_now:
        broadcast(conversation, message_frame(conversation.conversation_id, message, Revealed(text)))


def store(conversation: ConversationModel, author: Author, client_msg_id: str,
          text: str) -> tuple[MessageModel, bool]:
    """The message under the conversation's next seq, and True; a client_msg_id stored before comes
    back as that message, and False."""
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
        seq, now = int(conversation.last_seq) + 1, runtime().clock.utcnow()
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
                counters.first_response(conversation, now, assignment.tenant_settings(conversation.tenant_id))
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


def _burst_actions(conversation: ConversationModel, author: Author) -> list[Action] | None:
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
