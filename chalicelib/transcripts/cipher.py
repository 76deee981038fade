"""AES-256-GCM for message text, bound to its place.

The associated data names the tenant, conversation and seq, so a ciphertext copied to another row
or tenant fails to open. A fresh 96-bit nonce per message; the stored blob is nonce || ciphertext+tag,
and the record keeps the key version that sealed it, so keys can rotate.
"""
from __future__ import annotations

import os
from dataclasses import dataclass

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from .keys import tenant_keys

NONCE_BYTES = 12


class Corrupted(Exception):
    """A stored message that does not open: tampered, misplaced, or its key is gone."""


@dataclass(frozen=True)
class Sealed:
    blob: bytes
    key_version: int


def _place(tenant_id: str, conversation_id: str, seq: int) -> bytes:
    return f"switchboard.message.v1|{tenant_id}|{conversation_id}|{seq}".encode()


def seal(tenant_id: str, conversation_id: str, seq: int, text: str) -> Sealed:
    key = tenant_keys().current(tenant_id)
    nonce = os.urandom(NONCE_BYTES)
    blob = nonce + AESGCM(key.secret).encrypt(nonce, text.encode(), _place(tenant_id, conversation_id, seq))
    return Sealed(blob, key.version)


def open_sealed(tenant_id: str, conversation_id: str, seq: int, sealed: Sealed) -> str:
    key = tenant_keys().version(tenant_id, sealed.key_version)
    nonce, body = sealed.blob[:NONCE_BYTES], sealed.blob[NONCE_BYTES:]
    try:
        return AESGCM(key.secret).decrypt(nonce, body, _place(tenant_id, conversation_id, seq)).decode()
    except (InvalidTag, ValueError, UnicodeDecodeError):
        raise Corrupted(f"message {seq} of {conversation_id} does not open") from None
