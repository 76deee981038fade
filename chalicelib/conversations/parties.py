"""Who takes part in a conversation: its authors, and whether a connection may act on it."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from pynamodb.exceptions import DoesNotExist

from ..access.principals import Actor, actor
from ..access.roles import SUPERVISOR_UP
from ..errors import NotFound
from ..storage.connections import ConnectionModel
from ..storage.conversations import ConversationModel

Frame = dict[str, Any]


@dataclass(frozen=True)
class Author:
    kind: str  # visitor | agent | bot | system
    id: str
    name: str | None = None

    @classmethod
    def of(cls, connection: ConnectionModel) -> Author:
        return cls(connection.kind, connection.principal_id, connection.name)


BOT = Author("bot", "bot", "Assistant")
SYSTEM = Author("system", "system", None)


def conversation_key(tenant_id: str, conversation_id: str) -> str:
    return f"{tenant_id}#{conversation_id}"


def other_party(connection: ConnectionModel) -> str:
    return "agent" if connection.kind == "visitor" else "visitor"


def actor_of(connection: ConnectionModel) -> Actor:
    return actor(connection.kind, connection.principal_id)


def conversation_for(connection: ConnectionModel, conversation_id: str,
                     supervisors_too: bool = False) -> ConversationModel:
    """The conversation if this party takes part in it (or, with supervisors_too, supervises the
    tenant); another party's (or tenant's) conversation looks exactly like a missing one."""
    try:
        conversation = ConversationModel.get(connection.tenant_id, conversation_id, consistent_read=True)
    except DoesNotExist:
        raise NotFound("No such conversation.") from None
    mine = (conversation.visitor_id if connection.kind == "visitor" else conversation.agent_id)
    supervising = supervisors_too and connection.kind == "agent" and connection.role in SUPERVISOR_UP
    if mine != connection.principal_id and not supervising:
        raise NotFound("No such conversation.")
    return conversation
