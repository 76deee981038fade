"""Fixed-window rate limits with the counters in DynamoDB, so a limit holds across containers: in
rate-limit items of their own, or for WebSocket frames on the connection's record."""
from __future__ import annotations

import hashlib
import math
from datetime import datetime, timezone

from .errors import RateLimited
from .runtime import runtime
from .storage.models import ConnectionModel, RateLimitModel


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



# --- WebSocket frames per connection -----------------------------------------------------------
# Counted on the connection's own record, by the UpdateItem that replaces the GetItem every frame
# already made to find who is on the connection: a count in the record's window attributes, and the
# record back (ALL_NEW), or on a failed condition the record as it was (ALL_OLD), in one request.
_FIRST_OF_ITS_SECOND = ("SET #window = :window, #count = :one",
                        "attribute_exists(connection_id) AND (attribute_not_exists(#window) OR #window < :window)")
_LATER_IN_ITS_SECOND = ("SET #count = #count + :one", "#window = :window AND #count < :limit")
_ATTEMPTS = 3  # each failed attempt learns the record's window; more only under a concurrent flood


def count_frame(connection_id: str, limit: int) -> ConnectionModel | None:
    """Count one frame in its connection's one-second window: the connection's record (None when it
    is gone), or RateLimited past `limit` frames in the second. One UpdateItem for the first frame of
    a second and for a refused one; two for a later one within the limit (the first attempt assumes
    a new second, as most frames of a chat start one)."""
    client = runtime().client("dynamodb")
    now = runtime().clock.now()
    window, (update, condition) = int(now), _FIRST_OF_ITS_SECOND
    for _ in range(_ATTEMPTS):
        try:
            answer = client.update_item(
                TableName=ConnectionModel.Meta.table_name, Key={"connection_id": {"S": connection_id}},
                UpdateExpression=update, ConditionExpression=condition,
                ExpressionAttributeNames={"#window": "frame_window", "#count": "frame_count"},
                ExpressionAttributeValues={":window": {"N": str(window)}, ":one": {"N": "1"},
                                           **({":limit": {"N": str(limit)}} if ":limit" in condition else {})},
                ReturnValues="ALL_NEW", ReturnValuesOnConditionCheckFailure="ALL_OLD")
            return ConnectionModel.from_raw_data(answer["Attributes"])
        except client.exceptions.ConditionalCheckFailedException as err:
            seen = err.response.get("Item")
        if seen is None:
            return None  # no record: the connection is gone
        window = int(seen["frame_window"]["N"])  # this second's, or a later one another container's clock is in
        if int(seen["frame_count"]["N"]) >= limit:
            break
        update, condition = _LATER_IN_ITS_SECOND
    raise RateLimited(f"More than {limit} frames a second on this connection; send it again in a moment.",
                      retry_after=max(1, math.ceil(window + 1 - now)))
