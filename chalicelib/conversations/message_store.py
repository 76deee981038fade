"""A conversation's messages: each stored under the next gap-free seq, and read back a page at a time as frames.

The messages are their own seq authority: a message is written at the latest seq + 1, read with one
consistent Query, only if that seq is free (PutItem, attribute_not_exists), and a sender that loses
the race reads again. Its client_msg_id first claims the seq it aims at (a MessageIdModel put), so
a retry, however late, finds the message it stands for; the claim moves on only when another message
took that seq. Two writes of one unit each, and neither touches the conversation item (or its index
copies), except an agent's first reply, which also records the first response in one transaction.
A close takes the next seq itself with a marker: a send racing it loses that seq and sees the close.
"""
from __future__ import annotations

import random
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import Any

from pynamodb.exceptions import DoesNotExist, PutError, TransactWriteError
from pynamodb.transactions import TransactWrite

from .. import events
from ..clock import iso
from ..errors import Conflict, RateLimited
from ..reports import counters
from ..runtime import runtime
from ..storage.conversations import ConversationModel, MessageIdModel, MessageModel
from ..storage.helpers import condition_failed, refusal_means, transaction
from ..transcripts.cipher import Revealed, reveal, seal, seal_attachments
from . import assignment
from .delivery import broadcast
from .parties import Author, Frame, conversation_key

# Senders racing for one conversation's next seq retry with a little jitter before giving up.
MAX_SEND_ATTEMPTS = 25
CLOSE_MARKER = "closed"  # the sender_kind of the item a close puts at the seq after the last message


def post_as(conversation: ConversationModel, author: Author, client_msg_id: str, text: str) -> None:
    """A message from the bot or the system, stored and delivered like any other."""
    message, stored_now = store(conversation, author, client_msg_id, text)
    if stored_now:
        broadcast(conversation, message_frame(conversation.conversation_id, message, Revealed(text)))
        message_created(conversation, message)


def message_created(conversation: ConversationModel, message: MessageModel) -> None:
    """Told to the tenant's webhooks: who said it and where, not what (docs/webhooks.md)."""
    events.publish(conversation.tenant_id, "message.created", events.about(
        conversation, seq=int(message.seq), sender={"kind": message.sender_kind, "id": message.sender_id},
        sent_at=iso(message.sent_at)))


def store(conversation: ConversationModel, author: Author, client_msg_id: str,
          text: str, attachments: Sequence[dict[str, Any]] = (),
          channel: str | None = None) -> tuple[MessageModel, bool]:
    """The message under the conversation's next seq, and True; a client_msg_id stored before comes
    back as that message, and False. `attachments`: the files it carries (attachments/service.py
    refs_for_message), sealed with it."""
    key = conversation_key(conversation.tenant_id, conversation.conversation_id)
    for _ in range(MAX_SEND_ATTEMPTS):
        latest = None if conversation.status == "closed" else _latest(key)
        if conversation.status == "closed" or _closes(latest):
            raise Conflict("This conversation is closed.", code="conversation_closed")
        seq, now = (int(latest.seq) if latest else 0) + 1, runtime().clock.utcnow()
        bursts = _bursts(latest, author)
        if bursts is None:
            earlier = _earlier_message(key, client_msg_id)
            if earlier is not None:
                return earlier, False  # a retry of a stored message is acked, however fast it comes
            limit = runtime().config.messages_per_second
            raise RateLimited(f"More than {limit} messages a second; send it again in a moment with the same "
                              "client_msg_id.", retry_after=1)
        sealed = seal(conversation, seq, text)  # before any write: a key that cannot be opened writes nothing
        files = seal_attachments(conversation, seq, list(attachments)) if attachments else None
        claim = _claim(key, client_msg_id, seq)
        if isinstance(claim, MessageModel):
            return claim, False
        if claim:
            message = MessageModel(key, seq, sender_kind=author.kind, sender_id=author.id,
                                   sender_name=None if author.kind == "visitor" else author.name,
                                   sealed=sealed.blob, key_version=sealed.key_version, client_msg_id=client_msg_id,
                                   sent_at=now, visitor_burst=bursts.get("visitor_burst"),
                                   agent_burst=bursts.get("agent_burst"),
                                   attachments_sealed=files.blob if files else None,
                                   attachments_key_version=files.key_version if files else None, channel=channel)
            if _written(conversation, author, message):
                return message, True
        time.sleep(random.uniform(0, 0.005))
    raise Conflict("The conversation is busy; send again with the same client_msg_id.")


def _written(conversation: ConversationModel, author: Author, message: MessageModel) -> bool:
    """The message written at its seq; False when that seq was taken first (or, for an agent's first
    reply, the first response was recorded meanwhile): read again and retry."""
    free = MessageModel.seq.does_not_exist()
    if author.kind != "agent" or conversation.first_response_at is not None:
        try:
            message.save(condition=free)
            return True
        except PutError as err:
            if not condition_failed(err):
                raise  # throttled or failed: no race to retry; the sender is told to send again
            return False
    now = message.sent_at
    try:
        with transaction() as tx:
            # Answered: it no longer waits in the due-index for reroute-stale; recorded once.
            tx.update(conversation, actions=[ConversationModel.first_response_at.set(now),
                                             ConversationModel.due_shard.remove(), ConversationModel.due_at.remove()],
                      condition=ConversationModel.first_response_at.does_not_exist())
            tx.save(message, condition=free)
    except TransactWriteError as err:
        if err.cause_response_code != "TransactionCanceledException":
            raise
        conversation.refresh(consistent_read=True)
        return False
    counters.first_response(conversation, now, assignment.tenant_settings(conversation.tenant_id))
    return True


def _claim(key: str, client_msg_id: str, seq: int) -> MessageModel | bool:
    """Point client_msg_id's record at `seq` (free when last read): True when it points there; the
    message when one is stored under this client_msg_id already; False when another attempt of the
    same client_msg_id moved the record meanwhile (read again). The record leaves a seq only once
    another message holds it, so a message can be written only where its record points: never twice."""
    try:
        MessageIdModel(key, client_msg_id, seq=seq).save(condition=MessageIdModel.client_msg_id.does_not_exist())
        return True
    except PutError as err:
        if not condition_failed(err):
            raise
    record = MessageIdModel.get(key, client_msg_id, consistent_read=True)
    aimed = int(record.seq)
    if aimed >= seq:
        # Equal: an attempt that never wrote its message (a crash, or still on its way): the seq is
        # free, whoever writes it first writes this message. Beyond: read again.
        return aimed == seq
    held = _message_at(key, aimed)  # below the latest: taken
    if held is not None and held.client_msg_id == client_msg_id:
        return held
    with refusal_means() as refused:
        record.update(actions=[MessageIdModel.seq.set(seq)], condition=MessageIdModel.seq == aimed)
    return not refused


BURSTS = {"visitor": "visitor_burst", "agent": "agent_burst"}


def _bursts(latest: MessageModel | None, author: Author) -> dict[str, str] | None:
    """Each party's count in this one-second window with this message counted, carried from the
    latest message; None over the limit. The message is written only if `latest` is still the latest,
    so racing senders cannot both take the last place in a window."""
    window = f"{int(runtime().clock.now())}#"
    counts = {name: value for name in BURSTS.values()
              if latest is not None and (value := getattr(latest, name)) and value.startswith(window)}
    if author.kind not in BURSTS:
        return counts  # the bot and system messages answer the parties: never limited
    name = BURSTS[author.kind]
    count = int(counts.get(name, window + "0").partition("#")[2]) + 1
    if count > runtime().config.messages_per_second:
        return None
    return {**counts, name: f"{window}{count}"}


def _latest(key: str) -> MessageModel | None:
    return next(iter(MessageModel.query(key, consistent_read=True, scan_index_forward=False, limit=1)), None)


def _closes(message: MessageModel | None) -> bool:
    return message is not None and message.sender_kind == CLOSE_MARKER


def _message_at(key: str, seq: int) -> MessageModel | None:
    try:
        return MessageModel.get(key, seq, consistent_read=True)
    except DoesNotExist:
        return None


def _earlier_message(key: str, client_msg_id: str) -> MessageModel | None:
    try:
        seq = MessageIdModel.get(key, client_msg_id, consistent_read=True).seq
    except DoesNotExist:
        return None
    held = _message_at(key, int(seq))
    return held if held is not None and held.client_msg_id == client_msg_id else None


def last_message_seq(conversation: ConversationModel) -> int:
    """The seq of the conversation's last message: recorded by the close, else read (one Query)."""
    if conversation.status == "closed":
        return int(conversation.last_seq)
    latest = _latest(conversation_key(conversation.tenant_id, conversation.conversation_id))
    return 0 if latest is None else int(latest.seq) - _closes(latest)


class MessagesMoved(Exception):
    """A message took the seq a close meant to mark: read the last seq again and close after it."""


def close_marker(conversation: ConversationModel, last_seq: int) -> Callable[[TransactWrite], None]:
    """What a close adds to its transaction: the marker at the seq after `last_seq`, if still free (a
    send that took it first is stored, and the close goes after it). Called again for a retried
    transaction, it checks the last seq first and raises MessagesMoved when a message came in."""
    key = conversation_key(conversation.tenant_id, conversation.conversation_id)
    marker = MessageModel(key, last_seq + 1, sender_kind=CLOSE_MARKER, sender_id=CLOSE_MARKER, sealed=b"",
                          key_version=0, sent_at=runtime().clock.utcnow())
    calls = 0

    def add(tx: TransactWrite) -> None:
        nonlocal calls
        calls += 1
        if calls > 1 and last_message_seq(conversation) != last_seq:
            raise MessagesMoved
        tx.save(marker, condition=MessageModel.seq.does_not_exist())
    return add


def visible(messages: Iterable[MessageModel]) -> Iterator[MessageModel]:
    """The messages, without the close's marker."""
    return (message for message in messages if not _closes(message))


def message_frame(conversation_id: str, message: MessageModel, content: Revealed) -> Frame:
    frame = {"type": "message.new", "conversation_id": conversation_id, "seq": int(message.seq),
             "sender": {"kind": message.sender_kind, "id": message.sender_id, "name": message.sender_name},
             "text": content.text, "sent_at": iso(message.sent_at)}
    if content.attachments:
        frame["attachments"] = list(content.attachments)
    if message.channel:
        frame["channel"] = message.channel
    if message.email_status:
        frame["email_status"] = message.email_status
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
    # One more than a page: whether more follow is read with the page, not from the conversation.
    found = list(visible(MessageModel.query(key, MessageModel.seq > after_seq, consistent_read=True,
                                            limit=SYNC_PAGE + 1)))
    frames = [message_frame(conversation.conversation_id, message, reveal(conversation, message))
              for message in found[:SYNC_PAGE]]
    last_seq = frames[-1]["seq"] if frames else after_seq
    return [*frames, {"type": "sync.done", "conversation_id": conversation.conversation_id, "last_seq": last_seq,
                      "complete": len(found) <= SYNC_PAGE}]
