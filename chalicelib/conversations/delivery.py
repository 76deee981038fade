"""Who gets a conversation's frames: every open connection of its visitor and its agent."""
from __future__ import annotations

from typing import Any

from ..realtime.connections import connection_ids_of
from ..realtime.sender import sender
from ..storage.conversations import ConversationModel


def party_connections(conversation: ConversationModel) -> dict[str, list[str]]:
    parties = {"visitor": connection_ids_of(conversation.tenant_id, "visitor", conversation.visitor_id)}
    if conversation.agent_id:
        parties["agent"] = connection_ids_of(conversation.tenant_id, "agent", conversation.agent_id)
    return parties


def broadcast(conversation: ConversationModel, frame: dict[str, Any], *, skip: str | None = None,
              only: str | None = None) -> dict[str, list[str]]:
    """Send to both parties (or `only` one), except the connection `skip` (the sender's own); each
    party's open connections, as found (whether the visitor is here, at no further request)."""
    parties = party_connections(conversation)
    for party, connection_ids in parties.items():
        if only is None or party == only:
            sender().send_all((c for c in connection_ids if c != skip), frame)
    return parties
