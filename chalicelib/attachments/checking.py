"""The check between quarantine and use: what the bytes really are, then sealed, or refused and deleted.

S3 tells the upload queue of each object created in the quarantine bucket; the attachment_uploads
function (app.py) checks each one. A check first claims the pending item (a conditional update), so a
redelivered event, or an on-demand check racing the queue's (service.py), never seals a file twice:
the loser sees the claim and leaves. A claim older than CLAIM_SECONDS (longer than the function may
run) belonged to a check that died, and may be taken over.
"""
from __future__ import annotations

import json
import logging
from collections.abc import Iterable
from datetime import datetime, timedelta
from urllib.parse import unquote_plus

from pynamodb.exceptions import DoesNotExist

from ..runtime import runtime
from ..storage.attachments import AttachmentModel
from ..storage.conversations import ConversationModel
from ..storage.helpers import refusal_means
from ..transcripts.keys import Shredded
from .records import CHECKING, PENDING, READY, REJECTED, parse_upload_key, upload_key
from .sealing import SEGMENT_BYTES, object_key, seal_file
from .types import detect
from .uploads import max_bytes

log = logging.getLogger("switchboard.attachments")
CLAIM_SECONDS = 120


def handle_upload_events(bodies: Iterable[str]) -> int:
    """S3 event notifications (one SQS message each): every uploaded object checked; how many."""
    checked = 0
    for body in bodies:
        for record in json.loads(body).get("Records", []):  # S3's s3:TestEvent has none
            found = parse_upload_key(unquote_plus(record.get("s3", {}).get("object", {}).get("key", "")))
            if found is not None:
                check(*found)
                checked += 1
    return checked


def check(tenant_id: str, attachment_id: str) -> str:
    """The attachment's status after checking it (if it was uploaded and nobody else is checking it)."""
    try:
        item = AttachmentModel.get(tenant_id, attachment_id, consistent_read=True)
    except DoesNotExist:
        _delete_upload(tenant_id, attachment_id)  # an upload nobody asked for (or long expired)
        return "missing"
    if item.status not in (PENDING, CHECKING):
        return str(item.status)
    rt = runtime()
    s3 = rt.client("s3")
    try:
        head = s3.head_object(Bucket=rt.config.upload_bucket, Key=upload_key(tenant_id, attachment_id))
    except s3.exceptions.ClientError as err:
        if err.response.get("Error", {}).get("Code") in ("404", "NoSuchKey", "NotFound"):
            return str(item.status)  # not uploaded (yet)
        raise
    claimed = _claim(item)
    if claimed is None:
        return str(item.status)
    size = int(head["ContentLength"])
    if size < 1 or size > min(int(item.declared_size), max_bytes(tenant_id)):
        return _reject(item, claimed, "size")  # the policy refuses this on AWS; checked again all the same
    data = s3.get_object(Bucket=rt.config.upload_bucket, Key=upload_key(tenant_id, attachment_id))["Body"].read()
    if detect(data, item.content_type) is None:
        return _reject(item, claimed, "type")
    try:
        conversation = ConversationModel.get(tenant_id, item.conversation_id, consistent_read=True)
        sealed, version = seal_file(conversation, attachment_id, data)
    except (DoesNotExist, Shredded):
        return _reject(item, claimed, "shredded")
    s3.put_object(Bucket=rt.config.attachment_bucket, Key=object_key(tenant_id, item.conversation_id, attachment_id),
                  Body=sealed, ContentType="application/octet-stream")
    with refusal_means() as refused:
        item.update(actions=[AttachmentModel.status.set(READY), AttachmentModel.size.set(len(data)),
                             AttachmentModel.key_version.set(version), AttachmentModel.segment_bytes.set(SEGMENT_BYTES),
                             AttachmentModel.checked_at.set(rt.clock.utcnow()), AttachmentModel.expires_at.remove(),
                             AttachmentModel.claimed_at.remove()],
                    condition=(AttachmentModel.status == CHECKING) & (AttachmentModel.claimed_at == claimed))
    _delete_upload(tenant_id, attachment_id)
    return CHECKING if refused else READY


def _claim(item: AttachmentModel) -> datetime | None:
    """This check's claim (the time it took it), or None when another check holds it."""
    now = runtime().clock.utcnow()
    stale = now - timedelta(seconds=CLAIM_SECONDS)
    with refusal_means() as refused:
        item.update(actions=[AttachmentModel.status.set(CHECKING), AttachmentModel.claimed_at.set(now)],
                    condition=(AttachmentModel.status == PENDING)
                    | ((AttachmentModel.status == CHECKING) & (AttachmentModel.claimed_at < stale)))
    return None if refused else now


def _reject(item: AttachmentModel, claimed: datetime, reason: str) -> str:
    log.info(json.dumps({"event": "attachment_rejected", "tenant_id": item.tenant_id,
                         "attachment_id": item.attachment_id, "reason": reason}))
    with refusal_means():
        item.update(actions=[AttachmentModel.status.set(REJECTED), AttachmentModel.rejected_reason.set(reason),
                             AttachmentModel.checked_at.set(runtime().clock.utcnow()),
                             AttachmentModel.claimed_at.remove()],
                    condition=(AttachmentModel.status == CHECKING) & (AttachmentModel.claimed_at == claimed))
    _delete_upload(item.tenant_id, item.attachment_id)
    return REJECTED


def _delete_upload(tenant_id: str, attachment_id: str) -> None:
    rt = runtime()
    rt.client("s3").delete_object(Bucket=rt.config.upload_bucket, Key=upload_key(tenant_id, attachment_id))
