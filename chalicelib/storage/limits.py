"""Fixed-window request counters (chalicelib/ratelimit.py)."""
from __future__ import annotations

from pynamodb.attributes import NumberAttribute, TTLAttribute, UnicodeAttribute

from .base import TableModel, table_meta


class RateLimitModel(TableModel):
    Meta = table_meta("rate-limits")
    bucket = UnicodeAttribute(hash_key=True)
    hits = NumberAttribute(default=0)
    expires_at = TTLAttribute()
