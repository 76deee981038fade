"""Attachments as the rest of the product uses them: on messages, in downloads, for other channels.

Seams: store_bytes / read_bytes (server-side ingest and reading, e.g. for email), download
(GET /v1/attachments/{id}), listed_for (access bundles); message.send's attachment_ids: on_messages.py.
"""
from __future__ import annotations

from dataclasses import dataclass

from ..access.principals import Actor, Principal
from ..audit.trail import record_event
from ..errors import ApiError, Conflict, Gone, NotFound
from ..ids import new_id
from ..runtime import runtime
from ..storage.attachments import AttachmentModel
from ..storage.conversations import ConversationModel
from ..transcripts.keys import Corrupted, Shredded
from .access import readable_conversation, sees_everything
from .checking import check
from .records import GONE_MESSAGE, PENDING, READY, REJECTED, AttachmentInfo, alarm, get_item, readable_info, seal_name
from .sealing import SEGMENT_BYTES, object_key, open_range, seal_file
from .types import detect
from .uploads import UnsupportedType, check_declared, count_attachment

# The most one download answers: API Gateway and Lambda answer at most 6 MB, and base64 (binary
# responses) adds a third, so larger files are fetched in ranges of this size.
PIECE_BYTES = 4 * 1024 * 1024


class RangeNotSatisfiable(ApiError):
    status, code = 416, "range_not_satisfiable"


# --- Server-side ingest and reading (the email channel) ------------------------------------------
def store_bytes(tenant_id: str, conversation_id: str, filename: str, content_type: str, data: bytes,
                uploaded_by: Actor) -> AttachmentInfo:
    """A file the server holds already: the same limits, type check and sealing as an upload; ready
    at once. Raises TooLarge (attachment_too_large), UnsupportedType, Conflict, NotFound."""
    declared = check_declared(tenant_id, content_type, len(data))
    if not data or detect(data, declared) is None:
        raise UnsupportedType(f"content_type: the file is not a {declared}")
    conversation = _conversation(tenant_id, conversation_id)
    count_attachment(conversation)
    attachment_id = new_id("att")
    sealed, version = seal_file(conversation, attachment_id, data)
    sealed_name, name_version = seal_name(conversation, attachment_id, filename)
    rt = runtime()
    rt.client("s3").put_object(Bucket=rt.config.attachment_bucket,
                               Key=object_key(tenant_id, conversation_id, attachment_id), Body=sealed,
                               ContentType="application/octet-stream")
    now = rt.clock.utcnow()
    AttachmentModel(
        tenant_id, attachment_id, conversation_id=conversation_id, conversation_key=f"{tenant_id}#{conversation_id}",
        uploaded_by_kind=uploaded_by["kind"], uploaded_by_id=uploaded_by["id"], status=READY,
        content_type=declared, declared_size=len(data), size=len(data), sealed_name=sealed_name,
        name_key_version=name_version, key_version=version, segment_bytes=SEGMENT_BYTES, created_at=now,
        checked_at=now).save(condition=AttachmentModel.attachment_id.does_not_exist())
    return AttachmentInfo(attachment_id, conversation_id, filename, declared, len(data))


def read_bytes(tenant_id: str, attachment_id: str) -> tuple[AttachmentInfo, bytes]:
    """A ready file, whole. Raises NotFound (none, or not ready) and Gone (shredded)."""
    item = get_item(tenant_id, attachment_id)
    if item.status != READY:
        raise NotFound("No such attachment.")
    conversation = _conversation(tenant_id, item.conversation_id)
    info, data = _open(conversation, item, 0, int(item.size) - 1)
    return info, data


# --- Reading over REST ---------------------------------------------------------------------------
@dataclass(frozen=True)
class Piece:
    info: AttachmentInfo
    data: bytes
    first: int
    last: int

    @property
    def partial(self) -> bool:
        return self.first > 0 or self.last < self.info.size - 1


def describe(principal: Principal, attachment_id: str) -> tuple[AttachmentModel, AttachmentInfo]:
    """The attachment and its metadata for someone who may read its conversation (a pending upload is
    checked now, so an uploader learns at once whether it was accepted)."""
    item = get_item(principal.tenant_id, attachment_id)
    conversation = readable_conversation(principal, item.conversation_id)
    if item.status == PENDING and check(item.tenant_id, attachment_id) != PENDING:
        item.refresh(consistent_read=True)
    return item, readable_info(conversation, item)


def download(principal: Principal, attachment_id: str, range_header: str | None) -> Piece:
    item = get_item(principal.tenant_id, attachment_id)
    conversation = readable_conversation(principal, item.conversation_id)
    if item.status == REJECTED:
        raise NotFound("No such attachment.")
    if item.status != READY:
        raise Conflict("This file is not uploaded and checked yet.", code="attachment_not_ready")
    size = int(item.size)
    first, last = parse_range(range_header, size)
    last = min(last, first + PIECE_BYTES - 1)
    info, data = _open(conversation, item, first, last)
    if first == 0 and sees_everything(principal):
        # Read as a transcript is: staff who see every conversation leave a trace (once per download).
        record_event(principal.tenant_id, principal.actor, "attachment.read", item.conversation_id,
                     {"attachment_id": attachment_id})
    return Piece(info, data, first, last)


def parse_range(header: str | None, size: int) -> tuple[int, int]:
    """bytes=a-b, bytes=a- or bytes=-n (one range); none: the whole file."""
    if header is None or not header.strip():
        return 0, size - 1
    unit, _, spec = header.strip().partition("=")
    first_text, dash, last_text = spec.strip().partition("-")
    if unit.strip().lower() != "bytes" or not dash or "," in spec \
            or not (first_text.isdigit() or last_text.isdigit()) \
            or (first_text and not first_text.isdigit()) or (last_text and not last_text.isdigit()):
        raise RangeNotSatisfiable("Range: one range of bytes, as bytes=first-last")
    if not first_text:
        first, last = max(0, size - int(last_text)), size - 1
    else:
        first, last = int(first_text), min(int(last_text), size - 1) if last_text else size - 1
    if first >= size or first > last:
        raise RangeNotSatisfiable(f"Range: the file has {size} bytes")
    return first, last


# --- Access bundles -------------------------------------------------------------------------------
def listed_for(conversation: ConversationModel) -> list[dict[str, object]]:
    """The conversation's accepted files as metadata (the names, once the keys are gone, are not)."""
    listed: list[dict[str, object]] = []
    for item in AttachmentModel.conversation_index.query(f"{conversation.tenant_id}#{conversation.conversation_id}"):
        if item.status != READY:
            continue
        entry: dict[str, object] = {"attachment_id": item.attachment_id, "conversation_id": item.conversation_id,
                                    "content_type": item.content_type, "size": int(item.size),
                                    "uploaded_by": {"kind": item.uploaded_by_kind, "id": item.uploaded_by_id},
                                    "created_at": item.created_at.isoformat().replace("+00:00", "Z")}
        try:
            entry["filename"] = readable_info(conversation, item).filename
        except Gone:
            entry["filename"], entry["redacted"] = None, True
        listed.append(entry)
    return listed


def delete_files(conversation: ConversationModel) -> int:
    """After a conversation's keys are destroyed, its sealed files go too (unreadable already: this only
    frees the space); how many objects were deleted. The items stay, so a download answers 410."""
    keys = [{"Key": object_key(conversation.tenant_id, conversation.conversation_id, item.attachment_id)}
            for item in AttachmentModel.conversation_index.query(
                f"{conversation.tenant_id}#{conversation.conversation_id}", attributes_to_get=["attachment_id"])]
    rt = runtime()
    for at in range(0, len(keys), 1000):
        rt.client("s3").delete_objects(Bucket=rt.config.attachment_bucket,
                                       Delete={"Objects": keys[at:at + 1000], "Quiet": True})
    return len(keys)


def _conversation(tenant_id: str, conversation_id: str) -> ConversationModel:
    try:
        return ConversationModel.get(tenant_id, conversation_id, consistent_read=True)
    except ConversationModel.DoesNotExist:
        raise NotFound("No such conversation.") from None


def _open(conversation: ConversationModel, item: AttachmentModel, first: int,
          last: int) -> tuple[AttachmentInfo, bytes]:
    info = readable_info(conversation, item)
    try:
        return info, open_range(conversation, item.attachment_id, int(item.key_version), int(item.size), first, last)
    except Shredded:
        raise Gone(GONE_MESSAGE) from None
    except Corrupted:
        alarm(item)
        raise
