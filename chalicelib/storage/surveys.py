"""Satisfaction surveys and the follow-up replies that reopen a conversation."""
from __future__ import annotations

from pynamodb.attributes import BinaryAttribute, JSONAttribute, NumberAttribute, UnicodeAttribute, UTCDateTimeAttribute

from .base import TableModel, table_meta


class SurveyModel(TableModel):
    """One per conversation: created when send-surveys claims it, answered at most once."""
    Meta = table_meta("surveys")
    tenant_id = UnicodeAttribute(hash_key=True)
    conversation_id = UnicodeAttribute(range_key=True)
    agent_id = UnicodeAttribute(null=True)  # who held the conversation when the survey was sent
    conversation_created_at = UTCDateTimeAttribute()  # the report hour the answer counts in
    sent_at = UTCDateTimeAttribute()
    channel = UnicodeAttribute()  # websocket | email | none
    expires_at = UTCDateTimeAttribute()
    rating = NumberAttribute(null=True)
    # The visitor's comment, sealed under the conversation's key like their messages (never plaintext).
    comment_sealed = BinaryAttribute(legacy_encoding=False, null=True)
    comment_key_version = NumberAttribute(null=True)
    answered_at = UTCDateTimeAttribute(null=True)


class FollowUpModel(TableModel):
    """A task for supervisors: a conversation closed unresolved, or rated 1 or 2."""
    Meta = table_meta("follow-ups")
    tenant_id = UnicodeAttribute(hash_key=True)
    follow_up_id = UnicodeAttribute(range_key=True)  # "{conversation_id}.{reason}": one per reason
    conversation_id = UnicodeAttribute()
    reason = UnicodeAttribute()  # unresolved | low_rating
    agent_id = UnicodeAttribute(null=True)
    rating = NumberAttribute(null=True)
    status = UnicodeAttribute()  # open | closed
    created_at = UTCDateTimeAttribute()
    closed_at = UTCDateTimeAttribute(null=True)
    closed_by = JSONAttribute(null=True)
    note = UnicodeAttribute(null=True)
