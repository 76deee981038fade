"""Open WebSocket connections: who is on each, and every connection of one party."""
from __future__ import annotations

from datetime import timedelta

from pynamodb.exceptions import DoesNotExist

from ..runtime import runtime
from ..storage.models import ConnectionModel
from ..tenancy.principals import Principal

# API Gateway closes a connection after 2 hours; a record a lost $disconnect left behind
# expires a little after that.
MAX_LIFETIME = timedelta(hours=2, minutes=5)


def principal_key(tenant_id: str, kind: str, principal_id: str) -> str:
    return f"{tenant_id}#{kind}#{principal_id}"


def record(connection_id: str, principal: Principal, name: str | None) -> ConnectionModel:
    now = runtime().clock.utcnow()
    connection = ConnectionModel(
        connection_id, principal=principal_key(principal.tenant_id, principal.kind, principal.id),
        tenant_id=principal.tenant_id, kind=principal.kind, principal_id=principal.id,
        role=principal.role, name=name, connected_at=now, expires_at=now + MAX_LIFETIME)
    connection.save()
    return connection


def find(connection_id: str) -> ConnectionModel | None:
    try:
        return ConnectionModel.get(connection_id)
    except DoesNotExist:
        return None


def remove(connection_id: str) -> None:
    ConnectionModel(connection_id).delete()


def connection_ids_of(tenant_id: str, kind: str, principal_id: str) -> list[str]:
    """Every open connection of one agent (tabs) or visitor (reconnects): one Query."""
    return [c.connection_id for c in ConnectionModel.principal_index.query(
        principal_key(tenant_id, kind, principal_id))]
