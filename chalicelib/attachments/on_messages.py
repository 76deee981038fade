"""The files a message carries: message.send's attachment_ids, resolved in one BatchGetItem.

Only what the message path needs is loaded here (no check, no upload, no audit): the WebSocket function's
cold start stays as it was.
"""
from __future__ import annotations

from collections.abc import Sequence

from ..errors import Conflict, InvalidInput, NotFound
from ..storage.attachments import AttachmentModel
from ..storage.conversations import ConversationModel
from .records import READY, REJECTED, readable_info

MAX_PER_MESSAGE = 10


def refs_for_message(conversation: ConversationModel, attachment_ids: Sequence[str]) -> list[dict[str, object]]:
    """What a message carries for its attachment_ids: each a ready file of this conversation (one
    BatchGetItem). A pending one is not checked here: the message path stays a constant few requests,
    and the uploader learns of the check from GET /v1/attachments/{id}/status, which runs it if due."""
    if not attachment_ids:
        return []
    if len(set(attachment_ids)) != len(attachment_ids) or len(attachment_ids) > MAX_PER_MESSAGE:
        raise InvalidInput(f"attachment_ids: at most {MAX_PER_MESSAGE}, each once")
    found = {item.attachment_id: item for item in
             AttachmentModel.batch_get([(conversation.tenant_id, a) for a in attachment_ids], consistent_read=True)}
    refs = []
    for attachment_id in attachment_ids:
        item = found.get(attachment_id)
        if item is None or item.conversation_id != conversation.conversation_id:
            raise NotFound(f"attachment_ids: no attachment {attachment_id} in this conversation",
                           code="attachment_not_found")
        if item.status == REJECTED:
            raise Conflict(f"attachment_ids: {attachment_id} was refused: its content is not of an accepted type",
                           code="attachment_rejected")
        if item.status != READY:
            raise Conflict(f"attachment_ids: {attachment_id} is not uploaded and checked yet; send again in a moment",
                           code="attachment_not_ready")
        refs.append(readable_info(conversation, item).as_ref())
    return refs
