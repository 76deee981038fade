"""Fixed-window request counters (chalicelib/ratelimit.py)."""
from __future__ import annotations

from pynamodb.attributes import NumberAttribute, TTLAttribute, UnicodeAttribute
from pynamodb.models import Model

from .base import table_meta


class RateLimitModel(Model):
    Meta = table_meta("rate-limits")
    bucket = UnicodeAttribute(hash_key=True)
    hits = NumberAttribute(default=0)
    expires_at = TTLAttribute()
