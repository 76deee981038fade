"""What the parties are told when routing places a conversation: assigned (the agent gets the
transcript's first page), or queued at a position, and who moves up when the queue moves."""
from __future__ import annotations

from .. import events
from ..i18n import negotiate
from ..realtime.connections import connection_ids_of
from ..realtime.sender import sender
from ..runtime import runtime
from ..storage.conversations import ConversationModel
from ..storage.settings import Settings
from ..storage.visitors import VisitorModel
from .assignment import Assignment, drain_queue, route, team_key
from .delivery import broadcast
from .hours import is_open
from .message_store import post_as, transcript_page
from .parties import SYSTEM


def route_and_announce(conversation: ConversationModel, settings: Settings) -> None:
    """A person if one is free; else the queue position, and outside business hours the offline
    message in the visitor's language (the conversation waits in the queue for the first agent to
    come online)."""
    assignment = route(conversation, settings)
    if assignment:
        announce(assignment)
        return
    announce_queued(conversation)
    if not is_open(settings, runtime().clock.utcnow()):
        visitor = VisitorModel.get(conversation.tenant_id, conversation.visitor_id)
        locale = negotiate(visitor.locale, settings.default_locale)
        post_as(conversation, SYSTEM, "system:offline", settings.offline_text(locale))


def announce_queued(conversation: ConversationModel) -> None:
    ahead = ConversationModel.queue_index.count(
        conversation.queue_key, ConversationModel.queue_sort < conversation.queue_sort)
    broadcast(conversation, {"type": "conversation.queued", "conversation_id": conversation.conversation_id,
                             "position": ahead + 1}, only="visitor")


# Waiting visitors told their new position when the queue moves (a bound on the cost per move).
POSITIONS_ANNOUNCED = 20


def announce_queue_positions(tenant_id: str, team: str | None, left_at: str) -> None:
    """Tell those who stood behind `left_at` (the queue_sort of a conversation that left the queue)
    their new place: a chat that opens and is assigned at once left from the back, and nobody moved."""
    queue = team_key(tenant_id, team)
    waiting = ConversationModel.queue_index.query(queue, limit=POSITIONS_ANNOUNCED)
    for position, entry in enumerate(waiting, start=1):
        if entry.queue_sort > left_at:
            sender().send_all(connection_ids_of(tenant_id, "visitor", entry.visitor_id), {
                "type": "conversation.queued", "conversation_id": entry.conversation_id, "position": position})


def announce(assignment: Assignment) -> None:
    conversation, agent = assignment.conversation, assignment.agent
    visitor = VisitorModel.get(conversation.tenant_id, conversation.visitor_id)
    events.publish(conversation.tenant_id, "conversation.assigned",
                   events.about(conversation, status="assigned", agent_id=agent.agent_id))
    broadcast(conversation, {"type": "conversation.assigned", "conversation_id": conversation.conversation_id,
                             "agent": {"agent_id": agent.agent_id, "name": agent.name},
                             "visitor": {"visitor_id": visitor.visitor_id, "name": visitor.name}})
    agent_connections = connection_ids_of(agent.tenant_id, "agent", agent.agent_id)
    *transcript, done = transcript_page(conversation)
    # The first page; sync.done only when more follow (the console syncs the rest).
    for frame in transcript if done["complete"] else [*transcript, done]:
        sender().send_all(agent_connections, frame)
    if assignment.left_queue_at:  # everyone behind it moves up
        announce_queue_positions(conversation.tenant_id, conversation.team, assignment.left_queue_at)


def fill_capacity(tenant_id: str, agent_id: str, settings: Settings) -> None:
    """The agent's free places taken from the queues they serve, each assignment announced."""
    for assignment in drain_queue(tenant_id, agent_id, settings):
        announce(assignment)
