"""AES-256-GCM for message text under the conversation's key, bound to its place.

The associated data names the tenant, conversation and seq, so a ciphertext copied to another row
or tenant fails to open. A fresh 96-bit nonce per message; the stored blob is nonce || ciphertext+tag,
and the record keeps the key version that sealed it, so keys can rotate.
"""
from __future__ import annotations

import json
import logging
import os
from dataclasses import dataclass

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from ..storage.models import ConversationModel, MessageModel
from .keys import NONCE_BYTES, Corrupted, Shredded, key_ring

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


def _place(conversation: ConversationModel, seq: int) -> bytes:
    return f"switchboard.message.v1|{conversation.tenant_id}|{conversation.conversation_id}|{seq}".encode()


def seal(conversation: ConversationModel, seq: int, text: str) -> Sealed:
    key = key_ring().sealing_key(conversation)
    nonce = os.urandom(NONCE_BYTES)
    return Sealed(nonce + AESGCM(key.secret).encrypt(nonce, text.encode(), _place(conversation, seq)),
                  key.version)


def open_sealed(conversation: ConversationModel, seq: int, sealed: Sealed) -> str:
    """The text, or Corrupted (tampered, misplaced) or Shredded (its key destroyed)."""
    key = key_ring().opening_key(conversation, sealed.key_version)
    nonce, body = sealed.blob[:NONCE_BYTES], sealed.blob[NONCE_BYTES:]
    try:
        return AESGCM(key).decrypt(nonce, body, _place(conversation, seq)).decode()
    except (InvalidTag, ValueError, UnicodeDecodeError):
        raise Corrupted(f"message {seq} of {conversation.conversation_id} does not open") from None


def reveal(conversation: ConversationModel, message: MessageModel) -> Revealed:
    """A stored message for a reader: never garbage; a corrupted one raises an alarm."""
    seq = int(message.seq)
    try:
        return Revealed(open_sealed(conversation, seq, Sealed(message.sealed, int(message.key_version))))
    except Shredded:
        return Revealed(None, redacted=True)
    except Corrupted:
        log.error(json.dumps({"alarm": "message_corrupted", "tenant_id": conversation.tenant_id,
                              "conversation_id": conversation.conversation_id, "seq": seq}))
        return Revealed(None, corrupted=True)
