"""WebSocket connections: who holds each, with its per-connection frame counters."""
from __future__ import annotations

from pynamodb.attributes import NumberAttribute, TTLAttribute, UnicodeAttribute, UTCDateTimeAttribute
from pynamodb.indexes import GlobalSecondaryIndex, KeysOnlyProjection

from .base import TableModel, table_meta


class ConnectionPrincipalIndex(GlobalSecondaryIndex["ConnectionModel"]):
    class Meta:
        index_name = "principal-index"
        projection = KeysOnlyProjection()

    principal = UnicodeAttribute(hash_key=True)
    connection_id = UnicodeAttribute(range_key=True)


class ConnectionModel(TableModel):
    Meta = table_meta("connections")
    connection_id = UnicodeAttribute(hash_key=True)
    # "{tenant_id}#{kind}#{id}": every open connection of one agent or visitor.
    principal = UnicodeAttribute()
    tenant_id = UnicodeAttribute()
    kind = UnicodeAttribute()
    principal_id = UnicodeAttribute()
    role = UnicodeAttribute(null=True)
    name = UnicodeAttribute(null=True)  # shown as the sender of this party's messages
    # An agent's: the login it belongs to (logout closes only its sockets) and the agent's
    # session_version then (a role-dependent action checks it still holds).
    session_id = UnicodeAttribute(null=True)
    session_version = NumberAttribute(null=True)
    connected_at = UTCDateTimeAttribute()
    # API Gateway ends a connection after 2 hours; TTL sweeps records a lost $disconnect left.
    expires_at = TTLAttribute()
    # The second of its latest frame; that second's count is in one of frame_0..frame_6, which only
    # ratelimit.count_frame reads and writes (the read of every frame counts it).
    frame_window = NumberAttribute(null=True)
    principal_index = ConnectionPrincipalIndex()
