"""Sealing a whole object for S3: AES-256-GCM under a fresh data key that KMS wraps (envelope encryption).

What holds a visitor's words in the clear (an access bundle) never reaches S3 so: the object is

    MAGIC || len(wrapped key), 2 bytes || wrapped key || nonce || ciphertext+tag

The data key is wrapped by the data KMS key under the tenant's encryption context (as tenant keys are),
and the associated data names the object's place, so an object copied to another export or tenant
fails to open. Opening asks KMS once; the plaintext key lives only for the call.
"""
from __future__ import annotations

import os

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from ..runtime import runtime
from .keys import NONCE_BYTES, Corrupted

MAGIC = b"SBSEAL1\n"
_LENGTH_BYTES = 2


def seal_object(tenant_id: str, place: bytes, plaintext: bytes) -> bytes:
    rt = runtime()
    key = rt.client("kms").generate_data_key(KeyId=rt.config.data_key_alias, KeySpec="AES_256",
                                             EncryptionContext={"tenant_id": tenant_id})
    wrapped: bytes = key["CiphertextBlob"]
    nonce = os.urandom(NONCE_BYTES)
    sealed = AESGCM(key["Plaintext"]).encrypt(nonce, plaintext, place)
    return MAGIC + len(wrapped).to_bytes(_LENGTH_BYTES, "big") + wrapped + nonce + sealed


def open_object(tenant_id: str, place: bytes, blob: bytes) -> bytes:
    """The plaintext of a sealed object; Corrupted if it is not one, or not this place's."""
    if not blob.startswith(MAGIC):
        raise Corrupted("not a sealed object")
    at = len(MAGIC) + _LENGTH_BYTES
    length = int.from_bytes(blob[len(MAGIC):at], "big")
    wrapped, nonce, sealed = blob[at:at + length], blob[at + length:at + length + NONCE_BYTES], \
        blob[at + length + NONCE_BYTES:]
    rt = runtime()
    try:
        key = rt.client("kms").decrypt(CiphertextBlob=wrapped, EncryptionContext={"tenant_id": tenant_id})["Plaintext"]
    except rt.client("kms").exceptions.InvalidCiphertextException:
        raise Corrupted("the sealed object's key does not open") from None
    try:
        return AESGCM(key).decrypt(nonce, sealed, place)
    except (InvalidTag, ValueError):
        raise Corrupted("the sealed object does not open") from None
