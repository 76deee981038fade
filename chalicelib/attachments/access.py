"""Who may attach to and read a conversation's files: the rule of reading the conversation itself.

Its visitor (visitor token), its agent, and every other staff role (supervisors and admins; compliance
reads only). Another visitor's, agent's or tenant's conversation looks exactly like a missing one (404).
"""
from __future__ import annotations

from pynamodb.exceptions import DoesNotExist

from ..access.principals import Principal
from ..access.roles import DESK
from ..errors import Forbidden, NotFound
from ..storage.conversations import ConversationModel


def sees_everything(principal: Principal) -> bool:
    """Staff who read every conversation of the tenant: their reads are audited."""
    return principal.kind != "visitor" and principal.role != "agent"


def readable_conversation(principal: Principal, conversation_id: str) -> ConversationModel:
    try:
        conversation = ConversationModel.get(principal.tenant_id, conversation_id, consistent_read=True)
    except DoesNotExist:
        raise NotFound("No such conversation.") from None
    if principal.kind == "visitor":
        mine = conversation.visitor_id == principal.id
    else:
        mine = sees_everything(principal) or conversation.agent_id == principal.id
    if not mine:
        raise NotFound("No such conversation.")
    return conversation


def writable_conversation(principal: Principal, conversation_id: str) -> ConversationModel:
    """As readable_conversation, for those who take part: compliance reads, never sends."""
    if principal.kind != "visitor" and principal.role not in DESK:
        raise Forbidden("Your role may not do this.")
    return readable_conversation(principal, conversation_id)
