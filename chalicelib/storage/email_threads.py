"""The email channel's threading records (chalicelib/email_channel/threads.py), one tenant-scoped table.

Two kinds of item under the tenant:
- "m#<sha256 of a Message-ID>": a Message-ID we sent or received, and the conversation it belongs to.
  Written once (conditional put): a second delivery of one email finds it and stores nothing new.
- "c#<conversation_id>": the conversation's mail thread: the subject (sealed under the conversation's
  key, like its messages), the visitor's latest Message-ID and the References chain a reply carries.
Every item carries its conversation (conversation_key), so shredding the conversation finds and deletes
them all through conversation-index (forget_conversation) without a Scan.
"""
from __future__ import annotations

from pynamodb.attributes import BinaryAttribute, NumberAttribute, UnicodeAttribute, UTCDateTimeAttribute
from pynamodb.indexes import GlobalSecondaryIndex, KeysOnlyProjection

from .base import TableModel, string_list, table_meta


class ConversationThreadIndex(GlobalSecondaryIndex["EmailThreadModel"]):
    class Meta:
        index_name = "conversation-index"
        projection = KeysOnlyProjection()

    conversation_key = UnicodeAttribute(hash_key=True)  # "<tenant_id>#<conversation_id>"


class EmailThreadModel(TableModel):
    Meta = table_meta("email-threads")
    tenant_id = UnicodeAttribute(hash_key=True)
    thread_key = UnicodeAttribute(range_key=True)  # "m#<digest>" | "c#<conversation_id>"
    conversation_id = UnicodeAttribute()
    conversation_key = UnicodeAttribute()
    created_at = UTCDateTimeAttribute()
    # "m#" items: "in" (received from the visitor) or "out" (our reply).
    direction = UnicodeAttribute(null=True)
    # "c#" items.
    subject_sealed = BinaryAttribute(legacy_encoding=False, null=True)
    subject_key_version = NumberAttribute(null=True)
    last_inbound_message_id = UnicodeAttribute(null=True)
    references = string_list()  # Message-IDs, oldest first, at most REFERENCES_KEPT
    conversation_index = ConversationThreadIndex()


def conversation_key(tenant_id: str, conversation_id: str) -> str:
    return f"{tenant_id}#{conversation_id}"


def thread_key_of(conversation_id: str) -> str:
    return f"c#{conversation_id}"


def forget_conversation(tenant_id: str, conversation_id: str) -> int:
    """Delete a shredded conversation's threading records (its "c#" item and every "m#" naming it: a
    Message-ID can name the visitor's address, and would thread a later email into it); how many were
    deleted. One Query (keys only), and a BatchWriteItem per 25 records only when there are any (a chat
    that never saw an email costs the Query alone). Deleting what is gone already is no error, so a
    retried erasure or retention step is harmless. The index is eventually consistent: a record written
    in the second before is found by the next retry (docs/email.md)."""
    found = [item.thread_key for item in EmailThreadModel.conversation_index.query(
        conversation_key(tenant_id, conversation_id), attributes_to_get=["thread_key"])]
    if found:
        with EmailThreadModel.batch_write() as batch:
            for thread_key in found:
                batch.delete(EmailThreadModel(tenant_id, thread_key))
    return len(found)
