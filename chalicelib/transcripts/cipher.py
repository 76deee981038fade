"""AES-256-GCM for message text under the conversation's key, bound to its place.

The associated data names the tenant, conversation and seq, so a ciphertext copied to another row
or tenant fails to open. A fresh 96-bit nonce per message; the stored blob is nonce || ciphertext+tag,
and the record keeps the key version that sealed it, so keys can rotate.
"""
from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from typing import Any

from ..storage.conversations import ConversationModel, MessageModel
from ..storage.email_threads import EmailThreadModel
from .keys import Corrupted, Shredded, key_ring, unwrap, wrap

log = logging.getLogger("switchboard.transcripts")


@dataclass(frozen=True)
class Sealed:
    blob: bytes
    key_version: int


@dataclass(frozen=True)
class Revealed:
    """What a reader gets: the text, or why there is none."""
    text: str | None
    corrupted: bool = False
    redacted: bool = False
    # The files sent with a message: [{attachment_id, filename, content_type, size}] (empty when none).
    attachments: tuple[dict[str, Any], ...] = ()


def _place(conversation: ConversationModel, seq: int) -> bytes:
    return f"switchboard.message.v1|{conversation.tenant_id}|{conversation.conversation_id}|{seq}".encode()


def _comment_place(conversation: ConversationModel) -> bytes:
    return f"switchboard.survey-comment.v1|{conversation.tenant_id}|{conversation.conversation_id}".encode()


def seal_bytes(key: bytes, place: bytes, data: bytes) -> bytes:
    """nonce || ciphertext+tag of data under a conversation key (key_ring().sealing_key), bound to place:
    the same AES-GCM sealing that wraps keys."""
    return wrap(key, data, place)


def open_bytes(key: bytes, place: bytes, blob: bytes) -> bytes:
    try:
        return unwrap(key, blob, place)
    except Corrupted:
        raise Corrupted(f"{place.decode()} does not open") from None


def _seal(conversation: ConversationModel, place: bytes, text: str) -> Sealed:
    key = key_ring().sealing_key(conversation)
    return Sealed(seal_bytes(key.secret, place, text.encode()), key.version)


def _open(conversation: ConversationModel, place: bytes, sealed: Sealed) -> str:
    plaintext = open_bytes(key_ring().opening_key(conversation, sealed.key_version), place, sealed.blob)
    try:
        return plaintext.decode()
    except UnicodeDecodeError:
        raise Corrupted(f"{place.decode()} does not open") from None


def _reveal(conversation: ConversationModel, place: bytes, sealed: Sealed, **where: Any) -> Revealed:
    """For a reader: never garbage; a corrupted text raises an alarm naming where it is."""
    try:
        return Revealed(_open(conversation, place, sealed))
    except Shredded:
        return Revealed(None, redacted=True)
    except Corrupted:
        log.error(json.dumps({"alarm": "message_corrupted", "tenant_id": conversation.tenant_id,
                              "conversation_id": conversation.conversation_id, **where}))
        return Revealed(None, corrupted=True)


def seal(conversation: ConversationModel, seq: int, text: str) -> Sealed:
    return _seal(conversation, _place(conversation, seq), text)


# The files a message carries (their names are personal data) are sealed apart from its text, bound to
# the same seq, under the same conversation key: shredded with it.
def _attachments_place(conversation: ConversationModel, seq: int) -> bytes:
    return f"switchboard.message-attachments.v1|{conversation.tenant_id}|{conversation.conversation_id}|{seq}".encode()


def seal_attachments(conversation: ConversationModel, seq: int, attachments: list[dict[str, Any]]) -> Sealed:
    return _seal(conversation, _attachments_place(conversation, seq), json.dumps(attachments))


def reveal(conversation: ConversationModel, message: MessageModel) -> Revealed:
    seq = int(message.seq)
    revealed = _reveal(conversation, _place(conversation, seq), Sealed(message.sealed, int(message.key_version)),
                       seq=seq)
    if message.attachments_sealed is None or revealed.text is None:
        return revealed
    listed = _reveal(conversation, _attachments_place(conversation, seq),
                     Sealed(message.attachments_sealed, int(message.attachments_key_version or 0)), seq=seq,
                     attachments=True)
    if listed.text is None:
        return listed
    return Revealed(revealed.text, attachments=tuple(json.loads(listed.text)))


# A visitor's survey comment is their own words too: sealed like their messages, shredded with them.
def seal_comment(conversation: ConversationModel, text: str) -> Sealed:
    return _seal(conversation, _comment_place(conversation), text)


def reveal_comment(conversation: ConversationModel, sealed: Sealed) -> Revealed:
    return _reveal(conversation, _comment_place(conversation), sealed, survey_comment=True)


# An email conversation's subject is the visitor's words too: sealed under the conversation's key.
def _subject_place(conversation: ConversationModel) -> bytes:
    return f"switchboard.email-subject.v1|{conversation.tenant_id}|{conversation.conversation_id}".encode()


def seal_subject(conversation: ConversationModel, subject: str) -> Sealed:
    return _seal(conversation, _subject_place(conversation), subject)


def reveal_subject(conversation: ConversationModel, sealed: Sealed) -> Revealed:
    return _reveal(conversation, _subject_place(conversation), sealed, email_subject=True)


def thread_subject(conversation: ConversationModel, item: EmailThreadModel | None) -> str | None:
    """The subject its mail thread keeps (email_channel/threads.py), if any and still readable."""
    if item is None or item.subject_sealed is None or item.subject_key_version is None:
        return None
    return reveal_subject(conversation, Sealed(item.subject_sealed, int(item.subject_key_version))).text


# Staff's private notes on a conversation may name the visitor too: sealed under the conversation's key,
# each bound to its own note id, and shredded with the conversation.
def _note_place(conversation: ConversationModel, note_id: str) -> bytes:
    return f"switchboard.note.v1|{conversation.tenant_id}|{conversation.conversation_id}|{note_id}".encode()


def seal_note(conversation: ConversationModel, note_id: str, text: str) -> Sealed:
    return _seal(conversation, _note_place(conversation, note_id), text)


def reveal_note(conversation: ConversationModel, note_id: str, sealed: Sealed) -> Revealed:
    return _reveal(conversation, _note_place(conversation, note_id), sealed, note_id=note_id)
