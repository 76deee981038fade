"""Moving a conversation from its agent: to another agent or a team's queue (transfer), to the next
tier's queue (escalate), or back to the front of its queue when its agent went silent or away (reroute)."""
from __future__ import annotations

from pynamodb.exceptions import DoesNotExist
from pynamodb.transactions import TransactWrite

from ..audit.trail import record_event, system_actor
from ..errors import Conflict, InvalidInput, NotFound
from ..realtime.connections import connection_ids_of
from ..realtime.sender import sender
from ..storage.agents import AgentModel
from ..storage.connections import ConnectionModel
from ..storage.conversations import ConversationModel
from . import routing_log
from .announcements import announce, announce_queued, fill_capacity
from .assignment import hand_back, move_to_agent, requeue_actions, route, tenant_settings, tier_queue
from .parties import actor_of, conversation_for


def reroute(conversation: ConversationModel, reason: str) -> bool:
    """Take an assigned conversation from its agent (silent: no_first_reply, or gone: agent_left),
    back to the front of the queue."""
    try:
        _move_to_queue(conversation, team=None, actor=system_actor("reroute-stale"), action="conversation.rerouted",
                       decision=("rerouted", reason))
    except Conflict:
        return False
    return True


def transfer(connection: ConnectionModel, conversation_id: str, to_agent_id: str | None,
             to_team: str | None) -> None:
    """To a named agent with spare capacity, or to a team's queue (front, never back to this agent).
    Agents transfer their own conversations; supervisors and admins any of the tenant's."""
    conversation = conversation_for(connection, conversation_id, supervisors_too=True)
    if conversation.status != "assigned":
        raise Conflict("Only a conversation an agent holds can be transferred.", code="not_assigned")
    if to_agent_id is None:
        _move_to_queue(conversation, team=to_team, actor=actor_of(connection), action="conversation.transferred",
                       decision=("transferred", "to_team"))
        return
    if to_agent_id == conversation.agent_id:
        raise InvalidInput("to_agent_id: the conversation is already theirs")
    try:
        target = AgentModel.get(conversation.tenant_id, to_agent_id, consistent_read=True)
    except DoesNotExist:
        raise NotFound("No such agent.") from None
    from_agent_id = conversation.agent_id
    assignment = move_to_agent(conversation, target)
    if assignment is None:
        raise Conflict("That agent is offline or has no free capacity.", code="agent_unavailable")
    record_event(conversation.tenant_id, actor_of(connection), "conversation.transferred",
                 conversation.conversation_id, {"from_agent_id": from_agent_id, "to_agent_id": target.agent_id})
    _tell_transferred(conversation, from_agent_id, target.agent_id)
    announce(assignment)
    fill_capacity(conversation.tenant_id, from_agent_id, tenant_settings(conversation.tenant_id))


def escalate(connection: ConnectionModel, conversation_id: str) -> None:
    """To the next tier's queue: the first agent of that tier with room takes it."""
    conversation = conversation_for(connection, conversation_id)
    if conversation.status != "assigned":
        raise Conflict("Only a conversation an agent holds can be escalated.", code="not_assigned")
    holder = AgentModel.get(conversation.tenant_id, conversation.agent_id)
    _move_to_queue(conversation, team=tier_queue(int(holder.tier) + 1), actor=actor_of(connection),
                   action="conversation.escalated", decision=("escalated", "next_tier"))


def _move_to_queue(conversation: ConversationModel, team: str | None, actor: dict[str, str], action: str,
                   decision: tuple[str, str]) -> None:
    """`decision`: the routing log's (event, reason), recorded in the hand-back's transaction."""
    from_agent_id = conversation.agent_id

    def log(tx: TransactWrite) -> None:
        routing_log.record(tx, conversation, *decision, from_agent_id=from_agent_id, team=team)

    if not hand_back(conversation, requeue_actions(conversation, team), also=log):
        raise Conflict("The conversation changed meanwhile; try again.")
    record_event(conversation.tenant_id, actor, action, conversation.conversation_id,
                 {"from_agent_id": from_agent_id, "to_team": team})
    conversation.refresh(consistent_read=True)
    settings = tenant_settings(conversation.tenant_id)
    assignment = route(conversation, settings)
    _tell_transferred(conversation, from_agent_id, assignment.agent.agent_id if assignment else None)
    if assignment:
        announce(assignment)
    else:
        announce_queued(conversation)
    fill_capacity(conversation.tenant_id, from_agent_id, settings)


def _tell_transferred(conversation: ConversationModel, from_agent_id: str, to_agent_id: str | None) -> None:
    frame = {"type": "conversation.transferred", "conversation_id": conversation.conversation_id,
             "from_agent_id": from_agent_id, "to_agent_id": to_agent_id}
    for party in (("agent", from_agent_id), ("visitor", conversation.visitor_id)):
        sender().send_all(connection_ids_of(conversation.tenant_id, *party), frame)
