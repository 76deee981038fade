"""Who gets a conversation's frames: every open connection of its visitor and its agent."""
from __future__ import annotations

from typing import Any

from ..realtime.connections import connection_ids_of
from ..realtime.sender import sender
from ..storage.conversations import ConversationModel


def party_connections(conversation: ConversationModel, only: str | None = None) -> dict[str, list[str]]:
    """Each party's open connections (one Query a party); `only` that party's (typing, read receipts and
    queue positions go to one side, and need not look up the other)."""
    parties = {}
    if only in (None, "visitor"):
        parties["visitor"] = connection_ids_of(conversation.tenant_id, "visitor", conversation.visitor_id)
    if conversation.agent_id and only in (None, "agent"):
        parties["agent"] = connection_ids_of(conversation.tenant_id, "agent", conversation.agent_id)
    return parties


def broadcast(conversation: ConversationModel, frame: dict[str, Any], *, skip: str | None = None,
              only: str | None = None) -> dict[str, list[str]]:
    """Send to both parties (or `only` one), except the connection `skip` (the sender's own); the open
    connections of the parties it sent to, as found (whether the visitor is here, at no further request)."""
    parties = party_connections(conversation, only)
    for connection_ids in parties.values():
        sender().send_all((c for c in connection_ids if c != skip), frame)
    return parties
