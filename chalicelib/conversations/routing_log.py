"""Why a conversation went where it went: each routing decision with its reason, kept as an item under
the conversation and put by the very transaction that makes the decision, so it costs no request of
its own and is never recorded for a decision that lost its race.

Events and their reasons (the console names each; docs/conversations.md lists them):
  bot          faq_bot           opened with the FAQ bot first
  queued       new_conversation  opened without the bot, waiting for a person
               asked_for_person  the visitor asked the bot for a person
               bot_had_no_answer the bot found no confident answer
  assigned     least_loaded      the least-loaded agent of its queue with free capacity took it at once
               capacity_freed    it waited until an agent of its queue had room (came online, closed one)
  transferred  to_agent / to_team   an agent or supervisor moved it
  escalated    next_tier         to the next tier's queue
  rerouted     no_first_reply    its agent did not answer in time: back to the front of the queue
               agent_left        its agent went away or was deactivated
"""
from __future__ import annotations

import secrets
import time

from pynamodb.transactions import TransactWrite

from ..runtime import runtime
from ..storage.agents import AgentModel
from ..storage.conversations import ConversationModel, RoutingDecisionModel
from .parties import conversation_key


def decision_id() -> str:
    # Nanoseconds then randomness: a conversation's decisions are made one after another (each is
    # conditioned on the state the last one left), so time orders them.
    return f"{time.time_ns():016x}{secrets.token_hex(4)}"


def record(tx: TransactWrite, conversation: ConversationModel, event: str, reason: str, *,
           agent: AgentModel | None = None, load: int | None = None, from_agent_id: str | None = None,
           team: str | None = None) -> None:
    """Put the decision in `tx`, the transaction that makes it. `team`: the queue it goes to, when not
    the conversation's own (as requeue_actions takes it)."""
    tx.save(RoutingDecisionModel(
        conversation_key(conversation.tenant_id, conversation.conversation_id), decision_id(),
        event=event, reason=reason, at=runtime().clock.utcnow(),
        agent_id=agent.agent_id if agent else None, from_agent_id=from_agent_id,
        team=team or conversation.team, load=load,
        capacity=int(agent.max_concurrent) if agent and load is not None else None))
