"""Addresses no email may go to (bounces, complaints, unsubscribes)."""
from __future__ import annotations

from pynamodb.attributes import UnicodeAttribute, UTCDateTimeAttribute

from .base import TableModel, table_meta


class EmailSuppressionModel(TableModel):
    """An address no email may go to: from every tenant (scope "*": it bounced or its owner complained) or
    from one tenant (scope: the tenant id, the owner unsubscribed). Keyed by address, not tenant, because
    a bounce is about the address; the address is a SHA-256 digest of it lower-cased, never the address."""
    Meta = table_meta("email-suppressions")
    address_hash = UnicodeAttribute(hash_key=True)
    scope = UnicodeAttribute(range_key=True)
    reason = UnicodeAttribute()  # unsubscribe | bounce | complaint
    suppressed_at = UTCDateTimeAttribute()
