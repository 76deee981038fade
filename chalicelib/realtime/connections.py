"""Open WebSocket connections: who is on each, and every connection of one party.

A visitor's open connections are also kept as a set of ids on their visitor item, so the limit on
them holds atomically (a conditional add at connect, a delete when the record is deleted)."""
from __future__ import annotations

from datetime import timedelta

from pynamodb.exceptions import DoesNotExist
from pynamodb.expressions.condition import size

from ..access.principals import Principal
from ..errors import ApiError
from ..runtime import runtime
from ..storage.agents import AgentModel
from ..storage.connections import ConnectionModel
from ..storage.helpers import refusal_means
from ..storage.visitors import VisitorModel

# API Gateway closes a connection after 2 hours; a record a lost $disconnect left behind
# expires a little after that.
MAX_LIFETIME = timedelta(hours=2, minutes=5)


def principal_key(tenant_id: str, kind: str, principal_id: str) -> str:
    return f"{tenant_id}#{kind}#{principal_id}"


class TooManyConnections(ApiError):
    status, code = 429, "too_many_connections"


class SessionRevoked(ApiError):
    """The agent's sessions ended (deactivated, role or password changed) while this socket was open."""
    status, code = 401, "session_revoked"


def record(connection_id: str, principal: Principal, name: str | None) -> ConnectionModel:
    """Record who is on the connection; a visitor already at their limit of connections gets 429."""
    now = runtime().clock.utcnow()
    connection = ConnectionModel(
        connection_id, principal=principal_key(principal.tenant_id, principal.kind, principal.id),
        tenant_id=principal.tenant_id, kind=principal.kind, principal_id=principal.id,
        role=principal.role, name=name, connected_at=now, expires_at=now + MAX_LIFETIME,
        session_id=principal.session.id if principal.session else None,
        session_version=principal.session.version if principal.session else None)
    # The record first, then the visitor's slot: every id in a visitor's slots has its record, so
    # a record found missing (or expired) is a connection that is gone, never one being made.
    connection.save()
    if principal.kind == "visitor":
        try:
            _take_slot(principal.tenant_id, principal.id, connection_id)
        except TooManyConnections:
            connection.delete()
            raise
    return connection


def _take_slot(tenant_id: str, visitor_id: str, connection_id: str) -> None:
    limit = runtime().config.connections_per_visitor
    for attempt in range(2):
        with refusal_means() as refused:
            VisitorModel(tenant_id, visitor_id).update(
                actions=[VisitorModel.connection_ids.add({connection_id})],
                condition=VisitorModel.visitor_id.exists() & (VisitorModel.connection_ids.does_not_exist()
                                                               | (size(VisitorModel.connection_ids) < limit)))
        if not refused:
            return
        if attempt or not _free_gone_slots(tenant_id, visitor_id):
            break
    raise TooManyConnections(f"At most {limit} connections per visitor at once; close one first.")


def _free_gone_slots(tenant_id: str, visitor_id: str) -> bool:
    """Slots whose connection has no live record (a $disconnect that never came, a crash between
    deleting the record and the slot) are given back; True if any was. Consistent reads of the
    connections table, only when a connect would be refused."""
    try:
        slots = VisitorModel.get(tenant_id, visitor_id, consistent_read=True).connection_ids or set()
    except DoesNotExist:
        return False
    now = runtime().clock.utcnow()
    gone = {slot for slot in slots if (live := find(slot, consistent=True)) is None or live.expires_at <= now}
    if gone:
        _give_slots(tenant_id, visitor_id, gone)
    return bool(gone)


def _give_slots(tenant_id: str, visitor_id: str, connection_ids: set[str]) -> None:
    # Deleting from a set is idempotent: a second $disconnect of one connection gives back nothing more.
    VisitorModel(tenant_id, visitor_id).update(actions=[VisitorModel.connection_ids.delete(connection_ids)],
                                               condition=VisitorModel.visitor_id.exists())


def find(connection_id: str, consistent: bool = False) -> ConnectionModel | None:
    try:
        return ConnectionModel.get(connection_id, consistent_read=consistent)
    except DoesNotExist:
        return None


def remove(connection_id: str) -> ConnectionModel | None:
    """Forget a connection (one DeleteItem); the record it was, None when it was already gone.
    Only the caller that deleted the record gives the visitor's slot back, so it is given back once."""
    deleted = runtime().client("dynamodb").delete_item(
        TableName=ConnectionModel.Meta.table_name, Key={"connection_id": {"S": connection_id}},
        ReturnValues="ALL_OLD").get("Attributes")
    if deleted is None:
        return None
    connection = ConnectionModel.from_raw_data(deleted)
    if connection.kind == "visitor":
        with refusal_means():  # the visitor is gone: no slots to give back
            _give_slots(connection.tenant_id, connection.principal_id, {connection_id})
    return connection


def connection_ids_of(tenant_id: str, kind: str, principal_id: str) -> list[str]:
    """Every open connection of one agent (tabs) or visitor (reconnects): one Query."""
    return [c.connection_id for c in ConnectionModel.principal_index.query(
        principal_key(tenant_id, kind, principal_id))]


def of_session(connection_ids: list[str], session_id: str) -> list[str]:
    """Those of an agent's connections that belong to one login (its other logins' tabs do not):
    a GetItem each (an agent has a few tabs open, and logout is rare)."""
    return [connection_id for connection_id in connection_ids
            if (connection := find(connection_id, consistent=True)) and connection.session_id == session_id]


def reverified(connection: ConnectionModel) -> ConnectionModel:
    """An agent's connection with the role the agent holds now, for an action whose right depends on
    it (a supervisor moving others' chats): one consistent GetItem. A change that ended the agent's
    sessions is committed before their sockets are closed, so in between it is refused here."""
    try:
        agent = AgentModel.get(connection.tenant_id, connection.principal_id, consistent_read=True)
    except DoesNotExist:
        raise SessionRevoked("Your session has ended; sign in again.") from None
    if not agent.active or agent.session_version != connection.session_version:
        raise SessionRevoked("Your session has ended; sign in again.")
    connection.role = agent.role
    return connection
