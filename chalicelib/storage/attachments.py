"""Files sent in conversations: one item per attachment, from the upload's creation to its shredding."""
from __future__ import annotations

from pynamodb.attributes import BinaryAttribute, NumberAttribute, TTLAttribute, UnicodeAttribute, UTCDateTimeAttribute
from pynamodb.indexes import AllProjection, GlobalSecondaryIndex

from .base import TableModel, table_meta


class ConversationAttachmentsIndex(GlobalSecondaryIndex["AttachmentModel"]):
    class Meta:
        index_name = "conversation-index"
        projection = AllProjection()

    conversation_key = UnicodeAttribute(hash_key=True)
    attachment_id = UnicodeAttribute(range_key=True)


class AttachmentModel(TableModel):
    """pending (upload allowed, not yet checked) -> checking (one check holds it) -> ready | rejected.

    The file's name is personal data: sealed under the conversation's key, as its messages are. The
    bytes live sealed in the attachments bucket (attachments/sealing.py); nothing here opens without
    the conversation's keys, so erasure and retention shred the files with the text."""
    Meta = table_meta("attachments")
    tenant_id = UnicodeAttribute(hash_key=True)
    attachment_id = UnicodeAttribute(range_key=True)
    conversation_id = UnicodeAttribute()
    conversation_key = UnicodeAttribute()  # "{tenant_id}#{conversation_id}"
    uploaded_by_kind = UnicodeAttribute()  # visitor | agent | api_key | email
    uploaded_by_id = UnicodeAttribute()
    status = UnicodeAttribute()  # pending | checking | ready | rejected
    content_type = UnicodeAttribute()  # as declared; once ready, as found in the bytes (the same)
    declared_size = NumberAttribute()  # the upload policy's ceiling
    size = NumberAttribute(null=True)  # the bytes found, once ready
    # nonce || AES-256-GCM of the file name under the conversation key (version name_key_version).
    sealed_name = BinaryAttribute(legacy_encoding=False)
    name_key_version = NumberAttribute()
    key_version = NumberAttribute(null=True)  # which conversation key sealed the bytes, once ready
    segment_bytes = NumberAttribute(null=True)  # plaintext bytes per sealed segment
    created_at = UTCDateTimeAttribute()
    checked_at = UTCDateTimeAttribute(null=True)
    claimed_at = UTCDateTimeAttribute(null=True)  # when a check took it (a stale claim may be taken over)
    rejected_reason = UnicodeAttribute(null=True)
    # Set while pending: an upload never made (or never checked) leaves no item behind.
    expires_at = TTLAttribute(null=True)
    conversation_index = ConversationAttachmentsIndex()
