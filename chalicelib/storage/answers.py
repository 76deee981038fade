"""Prepared answers: the bot's FAQ entries and the agents' canned responses."""
from __future__ import annotations

from pynamodb.attributes import UnicodeAttribute, UTCDateTimeAttribute

from .base import TableModel, string_list, table_meta


class FaqModel(TableModel):
    Meta = table_meta("faq")
    tenant_id = UnicodeAttribute(hash_key=True)
    faq_id = UnicodeAttribute(range_key=True)
    question = UnicodeAttribute()
    answer = UnicodeAttribute()
    keywords = string_list()
    created_at = UTCDateTimeAttribute()
    updated_at = UTCDateTimeAttribute()


class CannedResponseModel(TableModel):
    Meta = table_meta("canned-responses")
    tenant_id = UnicodeAttribute(hash_key=True)
    # Stored without the leading slash agents type; also the canned response's id.
    shortcut = UnicodeAttribute(range_key=True)
    text = UnicodeAttribute()
    created_at = UTCDateTimeAttribute()
    updated_at = UTCDateTimeAttribute()
