"""An attachment's item, its sealed name, and the form other parts of the product see it in."""
from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from typing import Any

from pynamodb.exceptions import DoesNotExist

from ..errors import Gone, NotFound
from ..storage.attachments import AttachmentModel
from ..storage.conversations import ConversationModel
from ..transcripts.cipher import open_bytes, seal_bytes
from ..transcripts.keys import Corrupted, Shredded, key_ring

PENDING, CHECKING, READY, REJECTED = "pending", "checking", "ready", "rejected"
# Files one conversation may hold (pending ones count): a stranger cannot fill a bucket through one chat.
MAX_PER_CONVERSATION = 100
GONE_MESSAGE = "This file was erased with its conversation."
log = logging.getLogger("switchboard.attachments")


@dataclass(frozen=True)
class AttachmentInfo:
    attachment_id: str
    conversation_id: str
    filename: str
    content_type: str
    size: int

    def as_ref(self) -> dict[str, Any]:
        """What message.new, replays and transcripts carry."""
        return {"attachment_id": self.attachment_id, "filename": self.filename,
                "content_type": self.content_type, "size": self.size}


def upload_key(tenant_id: str, attachment_id: str) -> str:
    """Where the browser's presigned POST puts the bytes in the quarantine bucket."""
    return f"uploads/{tenant_id}/{attachment_id}"


def parse_upload_key(key: str) -> tuple[str, str] | None:
    parts = key.split("/")
    return (parts[1], parts[2]) if len(parts) == 3 and parts[0] == "uploads" and all(parts[1:]) else None


def _name_place(conversation: ConversationModel, attachment_id: str) -> bytes:
    return (f"switchboard.attachment-name.v1|{conversation.tenant_id}|{conversation.conversation_id}|"
            f"{attachment_id}").encode()


def seal_name(conversation: ConversationModel, attachment_id: str, filename: str) -> tuple[bytes, int]:
    key = key_ring().sealing_key(conversation)
    return seal_bytes(key.secret, _name_place(conversation, attachment_id), filename.encode()), key.version


def info_of(conversation: ConversationModel, item: AttachmentModel) -> AttachmentInfo:
    """Raises Shredded when the conversation's keys are gone, Corrupted when the name fails to open."""
    key = key_ring().opening_key(conversation, int(item.name_key_version))
    filename = open_bytes(key, _name_place(conversation, item.attachment_id), item.sealed_name).decode()
    return AttachmentInfo(item.attachment_id, item.conversation_id, filename, item.content_type,
                          int(item.size if item.size is not None else item.declared_size))


def get_item(tenant_id: str, attachment_id: str) -> AttachmentModel:
    try:
        return AttachmentModel.get(tenant_id, attachment_id, consistent_read=True)
    except DoesNotExist:
        raise NotFound("No such attachment.") from None


def readable_info(conversation: ConversationModel, item: AttachmentModel) -> AttachmentInfo:
    """Its metadata: 410 once the conversation's keys are destroyed."""
    if conversation.shredded_at is not None:
        raise Gone(GONE_MESSAGE)
    try:
        return info_of(conversation, item)
    except Shredded:
        raise Gone(GONE_MESSAGE) from None
    except Corrupted:
        alarm(item)
        raise


def alarm(item: AttachmentModel) -> None:
    log.error(json.dumps({"alarm": "attachment_corrupted", "tenant_id": item.tenant_id,
                          "conversation_id": item.conversation_id, "attachment_id": item.attachment_id}))
