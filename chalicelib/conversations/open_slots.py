"""The tenant's ceiling on visitor conversations waiting for or with a person
(SWITCHBOARD_TENANT_OPEN_VISITOR_CONVERSATIONS), so a flood of visitors minted with the public widget
key cannot bury the tenant's queue.

A counter on the tenant item: raised in the transaction that puts a visitor's conversation in the
queue (a new one, or one the bot hands over), conditioned on the ceiling; lowered in the one that
closes it. The conversation says it counts (counted_open), so it is lowered once, and conversations
from before the counter, or left with the bot, never lower it. No request is added: each write
joins a transaction (or becomes one) that was happening anyway.
"""
from __future__ import annotations

from pynamodb.expressions.update import Action
from pynamodb.transactions import TransactWrite

from ..access.visitor_limits import busy
from ..runtime import runtime
from ..storage.conversations import ConversationModel
from ..storage.tenants import TenantModel

_COUNT = TenantModel.open_visitor_conversations


def refuse_if_full(tenant: TenantModel) -> None:
    """Before trying: 429 `widget_busy` when the tenant (read consistently) is at its ceiling."""
    if int(tenant.open_visitor_conversations or 0) >= runtime().config.tenant_open_visitor_conversations:
        raise busy()


def take(tx: TransactWrite, tenant_id: str) -> None:
    """In the transaction that queues the conversation (which sets counted_open): one place, or the
    transaction is cancelled at the ceiling."""
    ceiling = runtime().config.tenant_open_visitor_conversations
    tx.update(TenantModel(tenant_id), actions=[_COUNT.add(1)],
              condition=_COUNT.does_not_exist() | (_COUNT < ceiling))


def give_back(tx: TransactWrite, conversation: ConversationModel) -> None:
    """In the transaction that closes the conversation: its place, if it held one."""
    if conversation.counted_open:
        tx.update(TenantModel(conversation.tenant_id), actions=[_COUNT.add(-1)])


def closing_actions(conversation: ConversationModel) -> list[Action]:
    return [ConversationModel.counted_open.remove()] if conversation.counted_open else []
