"""Fixed-window rate limits with the counters in DynamoDB, so a limit holds across containers: in
rate-limit items of their own, or for WebSocket frames on the connection's record."""
from __future__ import annotations

import hashlib
import math
from datetime import UTC, datetime

from .errors import RateLimited
from .runtime import runtime
from .storage.connections import ConnectionModel
from .storage.limits import RateLimitModel


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
            datetime.fromtimestamp(window_start + window_seconds + 60, tz=UTC)),
    ])
    if counter.hits > limit:
        raise _refuse(window_start, window_seconds, now)


# --- WebSocket frames per connection -----------------------------------------------------------
# Counted on the connection's own record by the UpdateItem that replaces the GetItem every frame
# already made to learn who is on the connection; it returns the record (ALL_NEW), or on a failed
# condition the record as it was (ALL_OLD). A second's count lives in one of SLOTS attributes,
# frame_0..frame_6, chosen by the second; each frame removes the other slots, so a slot that exists
# was counted in this very second, unless the previous frame came a whole multiple of SLOTS seconds
# earlier (frame_window says so, and only then a second request starts the count afresh).
SLOTS = 7  # prime: a client sending at a steady period (a ping every 4 minutes) rarely lands on a multiple
_SLOT_NAMES = {f"#s{n}": f"frame_{n}" for n in range(SLOTS)}
_ATTEMPTS = 3  # more only when frames of one connection race; each attempt learns the record as it is


def count_frame(connection_id: str, limit: int) -> ConnectionModel | None:
    """Count one frame in its connection's one-second window: the connection's record (None when it
    is gone), or RateLimited past `limit` frames in the second. One UpdateItem, as the GetItem it
    replaces; two when the previous frame came exactly a multiple of SLOTS seconds earlier."""
    client = runtime().client("dynamodb")
    now = runtime().clock.now()
    window = int(now)
    slot = f"#s{window % SLOTS}"
    others = ", ".join(name for name in _SLOT_NAMES if name != slot)
    values = {":window": {"N": str(window)}, ":one": {"N": "1"}}
    counted = {"UpdateExpression": f"SET #window = :window ADD {slot} :one REMOVE {others}",
               "ConditionExpression": f"attribute_exists(connection_id) AND (attribute_not_exists({slot}) "
                                      f"OR (#window > :stale AND {slot} < :limit))",
               "ExpressionAttributeValues": {**values, ":stale": {"N": str(window - SLOTS)},
                                             ":limit": {"N": str(limit)}}}
    request = counted
    for _ in range(_ATTEMPTS):
        try:
            answer = client.update_item(
                TableName=ConnectionModel.Meta.table_name, Key={"connection_id": {"S": connection_id}},
                ExpressionAttributeNames={"#window": "frame_window", **_SLOT_NAMES},
                ReturnValues="ALL_NEW", ReturnValuesOnConditionCheckFailure="ALL_OLD", **request)
            return ConnectionModel.from_raw_data(answer["Attributes"])
        except client.exceptions.ConditionalCheckFailedException as err:
            seen = err.response.get("Item")
        if seen is None:
            return None  # no record: the connection is gone
        seen_window = int(seen.get("frame_window", {"N": "0"})["N"])
        if seen_window <= window - SLOTS:
            # The slot holds a count from SLOTS (or a multiple) seconds ago: start this second's afresh.
            request = {"UpdateExpression": f"SET #window = :window, {slot} = :one REMOVE {others}",
                       "ConditionExpression": "attribute_exists(connection_id) AND #window = :seen",
                       "ExpressionAttributeValues": {**values, ":seen": {"N": str(seen_window)}}}
        elif int(seen.get(_SLOT_NAMES[slot], {"N": "0"})["N"]) >= limit:
            break  # this second's slot is full
        else:
            request = counted  # another frame of this connection changed the record first: count again
    raise RateLimited(f"More than {limit} frames a second on this connection; send it again in a moment.",
                      retry_after=max(1, math.ceil(window + 1 - now)))
