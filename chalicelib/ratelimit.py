"""Fixed-window rate limits with the counters in DynamoDB, so a limit holds across containers."""
from __future__ import annotations

import hashlib
from datetime import datetime, timezone

from pynamodb.exceptions import DoesNotExist

from .errors import RateLimited
from .runtime import runtime
from .storage.models import RateLimitModel


def _window(name: str, key: str, window_seconds: int) -> tuple[str, int, float]:
    now = runtime().clock.now()
    window_start = int(now // window_seconds) * window_seconds
    # Keys may hold emails or IPs: store a digest, never the value.
    digest = hashlib.sha256(key.encode()).hexdigest()[:32]
    return f"{name}#{digest}#{window_start}", window_start, now


def _refuse(window_start: int, window_seconds: int, now: float) -> RateLimited:
    return RateLimited("Too many requests; try again later.",
                       retry_after=int(window_start + window_seconds - now) + 1)


def enforce(name: str, key: str, limit: int, window_seconds: int) -> None:
    """Count one hit on (name, key) in the current window; 429 once the window is over its limit."""
    bucket, window_start, now = _window(name, key, window_seconds)
    counter = RateLimitModel(bucket)
    counter.update(actions=[
        RateLimitModel.hits.add(1),
        RateLimitModel.expires_at.set(
            datetime.fromtimestamp(window_start + window_seconds + 60, tz=timezone.utc)),
    ])
    if counter.hits > limit:
        raise _refuse(window_start, window_seconds, now)


def refuse_if_over(name: str, key: str, limit: int, window_seconds: int) -> None:
    """429 when (name, key) already used up this window, without counting a hit."""
    bucket, window_start, now = _window(name, key, window_seconds)
    try:
        hits = RateLimitModel.get(bucket, consistent_read=True).hits
    except DoesNotExist:
        return
    if hits >= limit:
        raise _refuse(window_start, window_seconds, now)

