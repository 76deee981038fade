"""Starting an upload: an attachment item (pending) and a presigned S3 POST into the quarantine bucket.

The Lambda never carries the bytes: the browser posts them straight to S3. The policy it is given
allows exactly one key and at most the declared size (content-length-range), for UPLOAD_SECONDS;
S3 refuses anything else. What arrives waits in quarantine until the check (checking.py) has read it.
"""
from __future__ import annotations

from datetime import timedelta
from typing import Any

from .. import ratelimit
from ..access.principals import Principal
from ..errors import ApiError, Conflict, TooLarge
from ..ids import new_id
from ..runtime import runtime
from ..storage.attachments import AttachmentModel
from ..storage.conversations import ConversationModel
from ..storage.helpers import refusal_means
from ..storage.settings import Settings
from ..storage.tenants import TenantModel
from . import ALLOWED
from .access import writable_conversation
from .records import MAX_PER_CONVERSATION, PENDING, seal_name, upload_key
from .types import normalise

UPLOAD_SECONDS = 300
# A pending item outlives its upload policy by this much, then TTL removes it (the quarantine
# bucket's lifecycle rule removes an object never checked).
PENDING_TTL = timedelta(days=1)


class UnsupportedType(ApiError):
    status, code = 415, "unsupported_media_type"


def max_bytes(tenant_id: str) -> int:
    return Settings.model_validate(TenantModel.get(tenant_id).settings).attachments_max_bytes


def check_declared(tenant_id: str, content_type: str, size: int) -> str:
    """The declared type, normalised, if allowed and the size within the tenant's limit."""
    limit = max_bytes(tenant_id)
    if size > limit:
        raise TooLarge(f"size: larger than this workspace's limit of {limit} bytes", code="attachment_too_large",
                       details={"max_bytes": limit})
    declared = normalise(content_type)
    if declared not in ALLOWED:
        raise UnsupportedType(f"content_type: {declared} is not accepted; send an image (PNG, JPEG, GIF, WebP), "
                              "a PDF, plain text, CSV or an office document (docx, xlsx, pptx, odt, ods)")
    return declared


def count_attachment(conversation: ConversationModel) -> None:
    """One more file on the conversation: refused on a closed or shredded one, or past the cap."""
    with refusal_means(Conflict(f"This conversation holds {MAX_PER_CONVERSATION} files already, or is closed.",
                                code="too_many_attachments")):
        conversation.update(
            actions=[ConversationModel.attachment_count.add(1)],
            condition=(ConversationModel.status != "closed") & ConversationModel.shredded_at.does_not_exist()
            & (ConversationModel.attachment_count.does_not_exist()
               | (ConversationModel.attachment_count < MAX_PER_CONVERSATION)))


def create_upload(principal: Principal, conversation_id: str, filename: str, content_type: str,
                  size: int) -> dict[str, Any]:
    conversation = writable_conversation(principal, conversation_id)
    declared = check_declared(principal.tenant_id, content_type, size)
    if conversation.status == "closed":
        raise Conflict("This conversation is closed.", code="conversation_closed")
    rt = runtime()
    if principal.kind == "visitor":
        ratelimit.enforce("visitor-attachments", f"{principal.tenant_id}#{principal.id}",
                          rt.config.attachments_per_visitor_per_hour, 3600)
    count_attachment(conversation)
    attachment_id = new_id("att")
    now = rt.clock.utcnow()
    sealed_name, version = seal_name(conversation, attachment_id, filename)
    AttachmentModel(
        principal.tenant_id, attachment_id, conversation_id=conversation_id,
        conversation_key=f"{principal.tenant_id}#{conversation_id}", uploaded_by_kind=principal.kind,
        uploaded_by_id=principal.id, status=PENDING, content_type=declared, declared_size=size,
        sealed_name=sealed_name, name_key_version=version, created_at=now, expires_at=now + PENDING_TTL,
    ).save(condition=AttachmentModel.attachment_id.does_not_exist())
    post = rt.client("s3").generate_presigned_post(
        Bucket=rt.config.upload_bucket, Key=upload_key(principal.tenant_id, attachment_id),
        Conditions=[["content-length-range", 1, size]], ExpiresIn=UPLOAD_SECONDS)
    return {"attachment_id": attachment_id, "status": PENDING, "upload": {"url": post["url"], "fields": post["fields"]},
            "expires_in": UPLOAD_SECONDS}
