"""The signed receipt of a finished erasure: which keys and records it destroyed, when, by whom.

It names keys by their stable ids (transcripts/key_ids.py): the visitor's keys, one per tenant key
version they held (the versions the tombstone's write removed), and for each of their conversations
the conversation key of each of those versions. Every conversation key is wrapped under the visitor's
key of its version, so these are all the keys that can have sealed the visitor's text; the erasure
removed those that existed, and an auditor checks that none of them remains and that every ciphertext
left names one of them (chalicelib/transcripts/erasure_proof.py). Signed with the audit key like the
trail's digests (kind "erasure_receipt"), recorded as the event `visitor.erasure_receipt`, and kept on
the tombstone for GET /v1/visitors/{visitor_id}/erasure-receipt.
"""
from __future__ import annotations

from typing import Any

from pynamodb.exceptions import DoesNotExist

from ..access.principals import Principal
from ..audit.chain import ERASURE_RECEIPT
from ..audit.signing import signed
from ..audit.trail import record_event
from ..clock import iso
from ..errors import NotFound
from ..runtime import runtime
from ..storage.helpers import refusal_means
from ..storage.visitors import VisitorModel
from ..transcripts.key_ids import conversation_key_id, visitor_key_id
from . import schemas as s

RECEIPT_ACTION = "visitor.erasure_receipt"


def receipt_digest(visitor: VisitorModel, conversation_ids: list[str], erased_by: dict[str, str]) -> dict[str, Any]:
    tenant_id, visitor_id = visitor.tenant_id, visitor.visitor_id
    facts = visitor.erasure or {}  # None only on a tombstone older than receipts: nothing is known of it
    versions: list[int] = facts.get("key_versions", [])
    return {
        "kind": ERASURE_RECEIPT, "tenant_id": tenant_id, "visitor_id": visitor_id,
        "erased_at": iso(visitor.erased_at), "erased_by": erased_by, "generated_at": iso(runtime().clock.utcnow()),
        "visitor_keys": [visitor_key_id(tenant_id, visitor_id, version) for version in versions],
        "conversations": [{"conversation_id": conversation_id,
                           "keys": [conversation_key_id(tenant_id, conversation_id, version) for version in versions]}
                          for conversation_id in sorted(set(conversation_ids))],
        "identity_link_removed": facts.get("identity_link_removed"),
    }


def write_receipt(principal: Principal, visitor: VisitorModel, conversation_ids: list[str]) -> None:
    receipt = signed(receipt_digest(visitor, conversation_ids, principal.actor))
    record_event(principal.tenant_id, principal.actor, RECEIPT_ACTION, visitor.visitor_id, receipt)
    with refusal_means():  # the tombstone is there (step 1 made it); refused only if it was deleted since
        visitor.update(actions=[VisitorModel.erasure_receipt.set(receipt)], condition=VisitorModel.erased_at.exists())


def read_receipt(principal: Principal, visitor_id: str) -> s.ErasureReceipt:
    """The latest receipt of the visitor's erasure; 404 before an erasure has finished."""
    try:
        visitor = VisitorModel.get(principal.tenant_id, visitor_id, consistent_read=True)
    except DoesNotExist:
        raise NotFound("No such visitor.") from None
    if visitor.erasure_receipt is None:
        raise NotFound("No finished erasure of this visitor.")
    return s.ErasureReceipt.model_validate(visitor.erasure_receipt)
