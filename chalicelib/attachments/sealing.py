"""A file's bytes sealed under its conversation's key, in segments, so a range opens only what it needs.

The object in the attachments bucket is the file cut into SEGMENT_BYTES pieces, each sealed on its own
(transcripts/cipher.py seal_bytes: nonce || AES-256-GCM ciphertext+tag) and laid end to end, so segment
i starts at i * (SEGMENT_BYTES + OVERHEAD). Each segment's associated data names the tenant, the
conversation, the attachment, its index and whether it is the last: a segment moved, reordered, or
cut short (a last segment dropped) fails to open. The key is the conversation's own (the one its
messages are sealed under), so erasure and retention shred the file with the text.
"""
from __future__ import annotations

from collections.abc import Iterator

from ..runtime import runtime
from ..storage.conversations import ConversationModel
from ..transcripts.cipher import open_bytes, seal_bytes
from ..transcripts.keys import NONCE_BYTES, Corrupted, key_ring

SEGMENT_BYTES = 1024 * 1024
TAG_BYTES = 16
OVERHEAD = NONCE_BYTES + TAG_BYTES


def object_key(tenant_id: str, conversation_id: str, attachment_id: str) -> str:
    return f"{tenant_id}/{conversation_id}/{attachment_id}"


def _place(conversation: ConversationModel, attachment_id: str, index: int, last: bool) -> bytes:
    return (f"switchboard.attachment.v1|{conversation.tenant_id}|{conversation.conversation_id}|"
            f"{attachment_id}|{index}|{'last' if last else 'more'}").encode()


def segment_count(size: int) -> int:
    return max(1, -(-size // SEGMENT_BYTES))


def seal_file(conversation: ConversationModel, attachment_id: str, data: bytes) -> tuple[bytes, int]:
    """The sealed object and the key version that sealed it."""
    key = key_ring().sealing_key(conversation)
    count = segment_count(len(data))
    sealed = b"".join(
        seal_bytes(key.secret, _place(conversation, attachment_id, index, index == count - 1),
                   data[index * SEGMENT_BYTES:(index + 1) * SEGMENT_BYTES])
        for index in range(count))
    return sealed, key.version


def open_range(conversation: ConversationModel, attachment_id: str, key_version: int, size: int,
               first: int, last: int) -> bytes:
    """Bytes first..last (inclusive) of the file: only the segments that hold them are read and opened.
    Raises Shredded when the conversation's key is gone, Corrupted when a segment fails to open."""
    key = key_ring().opening_key(conversation, key_version)
    count = segment_count(size)
    start, end = first // SEGMENT_BYTES, last // SEGMENT_BYTES
    stride = SEGMENT_BYTES + OVERHEAD
    stored_end = min((end + 1) * stride, size + count * OVERHEAD) - 1
    rt = runtime()
    blob = rt.client("s3").get_object(
        Bucket=rt.config.attachment_bucket, Key=object_key(conversation.tenant_id, conversation.conversation_id,
                                                           attachment_id),
        Range=f"bytes={start * stride}-{stored_end}")["Body"].read()
    segments = list(_segments(blob, stride))
    if len(segments) != end - start + 1:
        raise Corrupted(f"attachment {attachment_id} is cut short")
    plain = b"".join(open_bytes(key, _place(conversation, attachment_id, index, index == count - 1), segment)
                     for index, segment in zip(range(start, end + 1), segments, strict=True))
    offset = first - start * SEGMENT_BYTES
    return plain[offset:offset + last - first + 1]


def _segments(blob: bytes, stride: int) -> Iterator[bytes]:
    for at in range(0, len(blob), stride):
        yield blob[at:at + stride]
