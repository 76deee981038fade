"""The email channel's threading records (chalicelib/email_channel/threads.py), one tenant-scoped table.

Two kinds of item under the tenant:
- "m#<sha256 of a Message-ID>": a Message-ID we sent or received, and the conversation it belongs to.
  Written once (conditional put): a second delivery of one email finds it and stores nothing new.
- "c#<conversation_id>": the conversation's mail thread: the subject (sealed under the conversation's
  key, like its messages), the visitor's latest Message-ID and the References chain a reply carries.
"""
from __future__ import annotations

from pynamodb.attributes import BinaryAttribute, NumberAttribute, UnicodeAttribute, UTCDateTimeAttribute

from .base import TableModel, string_list, table_meta


class EmailThreadModel(TableModel):
    Meta = table_meta("email-threads")
    tenant_id = UnicodeAttribute(hash_key=True)
    thread_key = UnicodeAttribute(range_key=True)  # "m#<digest>" | "c#<conversation_id>"
    conversation_id = UnicodeAttribute()
    created_at = UTCDateTimeAttribute()
    # "m#" items: "in" (received from the visitor) or "out" (our reply).
    direction = UnicodeAttribute(null=True)
    # "c#" items.
    subject_sealed = BinaryAttribute(legacy_encoding=False, null=True)
    subject_key_version = NumberAttribute(null=True)
    last_inbound_message_id = UnicodeAttribute(null=True)
    references = string_list()  # Message-IDs, oldest first, at most REFERENCES_KEPT
