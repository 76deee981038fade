"""Which agent gets a conversation: presence, capacity, the roster, assignment and hand-back.

Each agent's availability is mirrored into one roster item per team (plus "*"); the roster's
available-index returns the least-loaded agent, ties to the one idle longest, in one Query.
Assignment is one transaction conditioned on the conversation still being queued and the agent's
load being what we read and below capacity, so racing assignments lose cleanly.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from pynamodb.exceptions import DoesNotExist, TransactWriteError
from pynamodb.expressions.update import Action
from pynamodb.transactions import TransactWrite

from ..audit.trail import record_event, system_actor
from ..clock import iso
from ..errors import Conflict
from ..runtime import runtime
from ..storage.agents import AgentModel, RosterModel
from ..storage.conversations import ConversationModel
from ..storage.helpers import shard, transaction
from ..storage.settings import Settings
from ..storage.tenants import TenantModel
from . import routing_log

ANY_TEAM = "*"
MAX_ATTEMPTS = 5
# A re-routed conversation goes to the front of its queue.
FRONT_OF_QUEUE = 9
# The due-index's shards of queued conversations, which the sla-alerts job walks (alerts/sla.py);
# an assigned one is due under the "reply" shards instead (reroute-stale).
WAITING_SHARDS = "sla"


def tenant_settings(tenant_id: str) -> Settings:
    """Read once per action and passed along: routing needs the reply timeout, the caller the hours."""
    return Settings.model_validate(TenantModel.get(tenant_id).settings)


def team_key(tenant_id: str, team: str | None) -> str:
    return f"{tenant_id}#{team or ANY_TEAM}"


def queue_sort(priority: int, queued_at: datetime, conversation_id: str) -> str:
    # Higher priority first, then oldest first: the index's natural order is the queue's.
    return f"{9 - priority}#{iso(queued_at)}#{conversation_id}"


def waiting_watch(conversation_id: str, since: datetime) -> dict[str, Any]:
    """Written with every entry into a queue: due at once for sla-alerts, which times it by the
    tenant's SLA (so no queueing path reads the settings for it)."""
    return {"due_shard": shard(WAITING_SHARDS, conversation_id), "due_at": since}


def read_queue_sort(sort: str) -> tuple[int, str]:
    """(priority, queued_at as ISO 8601) back from a queue_sort: the queue-index projects no more."""
    rank, queued_at, _ = sort.split("#", 2)
    return 9 - int(rank), queued_at


def available_sort(agent: AgentModel, load: int, idle_since: datetime | None) -> str | None:
    if agent.status != "online" or not agent.active or load >= agent.max_concurrent:
        return None
    return f"{load:02d}#{iso(idle_since or agent.created_at)}#{agent.agent_id}"


def tier_queue(tier: int) -> str:
    """Escalations wait in a queue of their own per tier."""
    return f"tier:{tier}"


def routing_keys(agent: AgentModel) -> list[str]:
    """The queues an agent serves: their teams, any-team, and their tier's escalations."""
    return [*agent.teams, ANY_TEAM, tier_queue(int(agent.tier))]


def save_roster(tx: TransactWrite, agent: AgentModel, load: int, idle_since: datetime | None) -> None:
    sort = available_sort(agent, load, idle_since)
    for team in routing_keys(agent):
        tx.save(RosterModel(team_key(agent.tenant_id, team), agent.agent_id, available_sort=sort))


def resync_roster(agent: AgentModel, previous_keys: list[str]) -> None:
    """After an admin changes an agent's teams, tier, capacity or active flag."""
    with transaction() as tx:
        for team in set(previous_keys) - set(routing_keys(agent)):
            tx.delete(RosterModel(team_key(agent.tenant_id, team), agent.agent_id))
        save_roster(tx, agent, int(agent.load), agent.idle_since)


def _take_capacity(tx: TransactWrite, agent: AgentModel, load: int, now: datetime) -> None:
    """Load + 1, only if the agent is still online, as loaded as we read, and below capacity."""
    tx.update(agent, actions=[AgentModel.load.set(load + 1), AgentModel.idle_since.set(now)],
              condition=(AgentModel.load == load) & (AgentModel.status == "online")
              & (AgentModel.load < agent.max_concurrent))
    save_roster(tx, agent, load + 1, now)


def _give_capacity(tx: TransactWrite, agent: AgentModel) -> None:
    """Load - 1, only if nobody changed it since we read it."""
    load = max(0, int(agent.load) - 1)
    tx.update(agent, actions=[AgentModel.load.set(load)], condition=AgentModel.load == agent.load)
    save_roster(tx, agent, load, agent.idle_since)


def set_presence(tenant_id: str, agent_id: str, status: str) -> AgentModel:
    """Record the agent's status and mirror it into the roster, together."""
    agent = AgentModel.get(tenant_id, agent_id, consistent_read=True)
    agent.status = status
    with transaction() as tx:
        tx.update(agent, actions=[AgentModel.status.set(status)])
        save_roster(tx, agent, int(agent.load), agent.idle_since)
    return agent


@dataclass(frozen=True)
class Assignment:
    conversation: ConversationModel
    agent: AgentModel
    left_queue_at: str | None = None  # its queue_sort, when it came from a queue: who was behind it


def assign(conversation: ConversationModel, agent: AgentModel, settings: Settings,
           reason: str = "least_loaded") -> Assignment | None:
    """Queued → assigned and load + 1 together, with the decision's reason, or none of it (None:
    someone else won)."""
    now = runtime().clock.utcnow()
    load = int(agent.load)
    if available_sort(agent, load, agent.idle_since) is None or agent.agent_id in conversation.skip_agents:
        return None
    reply_due = now + timedelta(seconds=settings.first_response_timeout_seconds)
    left_queue_at = conversation.queue_sort
    try:
        with transaction() as tx:
            tx.update(conversation, actions=[
                ConversationModel.status.set("assigned"), ConversationModel.agent_id.set(agent.agent_id),
                ConversationModel.agent_key.set(f"{agent.tenant_id}#{agent.agent_id}"),
                ConversationModel.held_by.set(f"{agent.tenant_id}#{agent.agent_id}"),
                ConversationModel.assigned_at.set(now), ConversationModel.queue_key.remove(),
                ConversationModel.queue_sort.remove(),
                ConversationModel.due_shard.set(shard("reply", conversation.conversation_id)),
                ConversationModel.due_at.set(reply_due)],
                condition=ConversationModel.status == "queued")
            _take_capacity(tx, agent, load, now)
            routing_log.record(tx, conversation, "assigned", reason, agent=agent, load=load + 1)
    except TransactWriteError:
        return None
    record_event(conversation.tenant_id, system_actor("routing"), "conversation.assigned",
                 conversation.conversation_id, {"agent_id": agent.agent_id})
    conversation.refresh(consistent_read=True)
    agent.refresh(consistent_read=True)
    return Assignment(conversation, agent, left_queue_at)


def route(conversation: ConversationModel, settings: Settings) -> Assignment | None:
    """Give a queued conversation to the best available agent of its team, if any.

    Conversations opening at once all read the same best agent and all but one lose that race; a
    loser goes on to the next best it read rather than reading again, so a burst is spread over
    the agents with room instead of being left queued (a queued chat waits for a presence change)."""
    for _ in range(MAX_ATTEMPTS):
        # The best few, past the agents this conversation was taken from.
        heads = RosterModel.available_index.query(team_key(conversation.tenant_id, conversation.team),
                                                  limit=len(conversation.skip_agents) + MAX_ATTEMPTS)
        candidates = [h.agent_id for h in heads if h.agent_id not in conversation.skip_agents]
        if not candidates:
            return None
        for candidate in candidates:
            try:
                agent = AgentModel.get(conversation.tenant_id, candidate, consistent_read=True)
            except DoesNotExist:
                continue
            assignment = assign(conversation, agent, settings)
            if assignment:
                return assignment
            conversation.refresh(consistent_read=True)
            if conversation.status != "queued":
                return None
    return None


def drain_queue(tenant_id: str, agent_id: str, settings: Settings) -> list[Assignment]:
    """While the agent has room, take the best waiting conversations of their teams."""
    made: list[Assignment] = []
    for _ in range(64):  # bounded: max_concurrent is at most 20, races add a few retries
        agent = AgentModel.get(tenant_id, agent_id, consistent_read=True)
        if available_sort(agent, int(agent.load), agent.idle_since) is None:
            break
        heads = sorted((head for team in routing_keys(agent)
                        for head in ConversationModel.queue_index.query(team_key(tenant_id, team), limit=3)),
                       key=lambda head: head.queue_sort)
        assignment = next(filter(None, (_take(tenant_id, head.conversation_id, agent, settings)
                                               for head in heads)), None)
        if assignment is None:
            break
        made.append(assignment)
    return made


def _take(tenant_id: str, conversation_id: str, agent: AgentModel, settings: Settings) -> Assignment | None:
    try:
        conversation = ConversationModel.get(tenant_id, conversation_id, consistent_read=True)
    except DoesNotExist:
        return None
    return assign(conversation, agent, settings, reason="capacity_freed")


def hand_back(conversation: ConversationModel, actions: list[Action],
              also: Callable[[TransactWrite], None] | None = None) -> bool:
    """Apply `actions` to a conversation its agent holds and give the agent the capacity back, in one
    transaction (a crash between the two would leak capacity), with `also`'s writes (closing gives
    the tenant's open place back). False when it no longer holds it."""
    holder = conversation.agent_id
    for _ in range(MAX_ATTEMPTS):
        agent = AgentModel.get(conversation.tenant_id, holder, consistent_read=True)
        try:
            with transaction() as tx:
                tx.update(conversation, actions=actions,
                          condition=(ConversationModel.status == "assigned") & (ConversationModel.agent_id == holder))
                _give_capacity(tx, agent)
                if also is not None:
                    also(tx)
            return True
        except TransactWriteError:
            conversation.refresh(consistent_read=True)
            if conversation.status != "assigned" or conversation.agent_id != holder:
                return False
    raise Conflict("The agent's capacity is changing too fast; try again.")


def requeue_actions(conversation: ConversationModel, team: str | None = None) -> list[Action]:
    """Back to the front of its queue (or of `team`'s), never again to the agent it is taken from."""
    now = runtime().clock.utcnow()
    team = team or conversation.team
    return [ConversationModel.status.set("queued"), ConversationModel.agent_id.remove(),
            ConversationModel.held_by.remove(),
            ConversationModel.priority.set(FRONT_OF_QUEUE), ConversationModel.queued_at.set(now),
            ConversationModel.team.set(team),
            ConversationModel.queue_key.set(team_key(conversation.tenant_id, team)),
            ConversationModel.queue_sort.set(queue_sort(FRONT_OF_QUEUE, now, conversation.conversation_id)),
            ConversationModel.skip_agents.set([*conversation.skip_agents, conversation.agent_id]),
            *(getattr(ConversationModel, name).set(value)
              for name, value in waiting_watch(conversation.conversation_id, now).items())]


def move_to_agent(conversation: ConversationModel, target: AgentModel) -> Assignment | None:
    """From its agent straight to another with spare capacity, both loads changing together (and the
    decision recorded with them)."""
    holder = AgentModel.get(conversation.tenant_id, conversation.agent_id, consistent_read=True)
    target_load = int(target.load)
    if available_sort(target, target_load, target.idle_since) is None:
        return None
    now = runtime().clock.utcnow()
    try:
        with transaction() as tx:
            tx.update(conversation, actions=[
                ConversationModel.agent_id.set(target.agent_id),
                ConversationModel.agent_key.set(f"{target.tenant_id}#{target.agent_id}"),
                ConversationModel.held_by.set(f"{target.tenant_id}#{target.agent_id}"),
                ConversationModel.skip_agents.set([*conversation.skip_agents, holder.agent_id])],
                condition=(ConversationModel.status == "assigned") & (ConversationModel.agent_id == holder.agent_id))
            _give_capacity(tx, holder)
            _take_capacity(tx, target, target_load, now)
            routing_log.record(tx, conversation, "transferred", "to_agent", agent=target, load=target_load + 1,
                               from_agent_id=holder.agent_id)
    except TransactWriteError:
        return None
    conversation.refresh(consistent_read=True)
    target.refresh(consistent_read=True)
    return Assignment(conversation, target)


def conversations_held(tenant_id: str, agent_id: str) -> list[ConversationModel]:
    """What the agent holds now, from the sparse held-index (O(held), whatever their history), each
    confirmed with a consistent read: a global index may still list one just closed or moved."""
    held = []
    for listed in ConversationModel.held_index.query(f"{tenant_id}#{agent_id}"):
        try:
            conversation = ConversationModel.get(tenant_id, listed.conversation_id, consistent_read=True)
        except DoesNotExist:
            continue
        if conversation.status == "assigned" and conversation.agent_id == agent_id:
            held.append(conversation)
    return held
