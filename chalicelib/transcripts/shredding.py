"""Crypto-shredding: destroying the keys under a conversation so nothing can open it again.

The ciphertext stays where it is; without the conversation's wrapped keys (and, after erasure, the
visitor's) no key anywhere opens it, and the API shows its messages as redacted.
"""
from __future__ import annotations

from datetime import datetime
from typing import Any

from pynamodb.constants import ALL_OLD

from ..storage.conversations import ConversationModel
from ..storage.helpers import refusal_means


def shred_actions(now: datetime) -> list[Any]:
    # Staff's labels go too (a label may name the visitor); the version moves, so an edit racing this fails.
    return [ConversationModel.data_keys.remove(), ConversationModel.retention_key.remove(),
            ConversationModel.shredded_at.set(now), ConversationModel.labels.set([]),
            ConversationModel.labels_version.add(1)]


def shred_closed(tenant_id: str, conversation_id: str, now: datetime,
                 closed_before: datetime | None = None) -> list[int] | None:
    """Shred a closed conversation (closed before the given time, if any): the key versions the write
    destroyed, as the item held them at that moment (what a signed receipt names); None when it is not
    closed, already shredded, or closed later."""
    condition = (ConversationModel.status == "closed") & ConversationModel.shredded_at.does_not_exist()
    if closed_before is not None:
        condition &= ConversationModel.closed_at <= closed_before
    with refusal_means() as refused:
        # The connection's own UpdateItem: Model.update answers the item after the write, not before.
        before = ConversationModel._get_connection().update_item(
            tenant_id, conversation_id, actions=shred_actions(now), condition=condition, return_values=ALL_OLD)
    if refused:
        return None
    return sorted(int(version) for version in before.get("Attributes", {}).get("data_keys", {}).get("M", {}))
