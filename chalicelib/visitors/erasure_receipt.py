"""The signed receipt of a finished erasure: which keys and records it destroyed, when, by whom.

It names keys by their stable ids (transcripts/key_ids.py): the visitor's keys, one per tenant key
version they held (the versions the tombstone's write removed), and for each of their conversations
the conversation key of each of those versions. Every conversation key is wrapped under the visitor's
key of its version, so these are all the keys that can have sealed the visitor's text; the erasure
removed those that existed, and an auditor checks that none of them remains and that every ciphertext
left names one of them (chalicelib/transcripts/erasure_proof.py). Signed with the audit key like the
trail's digests (kind "erasure_receipt") and recorded as the event `visitor.erasure_receipt`.

A receipt is one audit event while it fits one DynamoDB item (400 KB): a visitor with more
conversations than PART_BYTES holds gets a receipt in numbered parts, each its own signed event
carrying the receipt's id, its number and the number of parts, the visitor keys and the count of
conversations of the whole (docs/audit.md, Proof of forgetting). The tombstone keeps part 1; GET
/v1/visitors/{visitor_id}/erasure-receipt answers it with the others, found through the audit
trail's subject-index.
"""
from __future__ import annotations

from typing import Any

from pynamodb.exceptions import DoesNotExist

from ..access.principals import Principal
from ..audit.chain import ERASURE_RECEIPT, canonical
from ..audit.signing import signed
from ..audit.trail import record_event
from ..clock import iso
from ..errors import Conflict, NotFound
from ..ids import new_id
from ..runtime import runtime
from ..storage.audit import AuditEventModel, subject_key
from ..storage.helpers import refusal_means
from ..storage.visitors import VisitorModel
from ..transcripts.key_ids import conversation_key_id, visitor_key_id
from . import schemas as s

RECEIPT_ACTION = "visitor.erasure_receipt"
# The most a signed part's canonical JSON holds: with the event's other attributes (hashes, actor,
# the JSON text's spacing) well under DynamoDB's 400 KB item, for the event, the waiting event of a
# contended append and the tombstone that keeps part 1. About 1,650 conversations at one key version.
PART_BYTES = 256_000
# What signing adds around a digest (algorithm, key id, a base64 DER signature of at most 72 bytes).
SIGNED_OVERHEAD = 512


def receipt_parts(visitor: VisitorModel, conversation_ids: list[str], erased_by: dict[str, str]
                  ) -> list[dict[str, Any]]:
    """The receipt's digests, one per part, in order; one part unless the conversations outgrow it."""
    tenant_id, visitor_id = visitor.tenant_id, visitor.visitor_id
    facts = visitor.erasure or {}  # None only on a tombstone older than receipts: nothing is known of it
    versions: list[int] = facts.get("key_versions", [])
    conversations = [{"conversation_id": conversation_id,
                      "keys": [conversation_key_id(tenant_id, conversation_id, version) for version in versions]}
                     for conversation_id in sorted(set(conversation_ids))]
    whole = {
        "kind": ERASURE_RECEIPT, "tenant_id": tenant_id, "visitor_id": visitor_id, "receipt_id": new_id("er"),
        "part": len(conversations) + 1, "parts": len(conversations) + 1,  # as wide as any part's numbers
        "erased_at": iso(visitor.erased_at), "erased_by": erased_by, "generated_at": iso(runtime().clock.utcnow()),
        "visitor_keys": [visitor_key_id(tenant_id, visitor_id, version) for version in versions],
        "conversation_count": len(conversations), "conversations": [],
        "identity_link_removed": facts.get("identity_link_removed"),
    }
    chunks = _chunks(conversations, PART_BYTES - SIGNED_OVERHEAD - len(canonical(whole)))
    return [{**whole, "part": number, "parts": len(chunks), "conversations": chunk}
            for number, chunk in enumerate(chunks, start=1)]


def _chunks(entries: list[dict[str, Any]], room: int) -> list[list[dict[str, Any]]]:
    """Entries in order, as few chunks as each holding at most `room` bytes of canonical JSON allow
    (at least one entry a chunk, and one empty chunk for none)."""
    chunks: list[list[dict[str, Any]]] = [[]]
    used = 0
    for entry in entries:
        size = len(canonical(entry)) + 1  # and its comma
        if chunks[-1] and used + size > room:
            chunks.append([])
            used = 0
        chunks[-1].append(entry)
        used += size
    return chunks


def write_receipt(principal: Principal, visitor: VisitorModel, conversation_ids: list[str]) -> None:
    parts = [signed(digest) for digest in receipt_parts(visitor, conversation_ids, principal.actor)]
    for part in parts:
        record_event(principal.tenant_id, principal.actor, RECEIPT_ACTION, visitor.visitor_id, part)
    # Only once every part is on the trail: the tombstone never points at a receipt with parts missing.
    with refusal_means():  # the tombstone is there (step 1 made it); refused only if it was deleted since
        visitor.update(actions=[VisitorModel.erasure_receipt.set(parts[0])], condition=VisitorModel.erased_at.exists())


def read_receipt(principal: Principal, visitor_id: str) -> s.ErasureReceipt:
    """The latest receipt of the visitor's erasure: part 1, with any further parts; 404 before an
    erasure has finished, 409 while a part cannot be read yet."""
    try:
        visitor = VisitorModel.get(principal.tenant_id, visitor_id, consistent_read=True)
    except DoesNotExist:
        raise NotFound("No such visitor.") from None
    if visitor.erasure_receipt is None:
        raise NotFound("No finished erasure of this visitor.")
    first: dict[str, Any] = visitor.erasure_receipt
    further = _further_parts(principal.tenant_id, visitor_id, first["digest"])
    return s.ErasureReceipt.model_validate({**first, "further_parts": further})


def _further_parts(tenant_id: str, visitor_id: str, digest: dict[str, Any]) -> list[dict[str, Any]]:
    """Parts 2.. of the receipt, from the trail: the events about the visitor, newest first (few: the
    visitor's own events, not their conversations'), until every part is found. The tombstone names the
    receipt only once every part is on the trail, but the index is read eventually consistent: a part
    not found yet is a 409 to ask again, never an answer that leaves it out."""
    wanted = set(range(2, int(digest.get("parts", 1)) + 1))  # none for a receipt of one part (or older)
    found: dict[int, dict[str, Any]] = {}
    if not wanted:
        return []
    for key in AuditEventModel.subject_index.query(subject_key(tenant_id, visitor_id), scan_index_forward=False):
        if not wanted - set(found):
            break
        event = AuditEventModel.get(tenant_id, key.seq, consistent_read=True)
        details = event.details if event.action == RECEIPT_ACTION else {}
        part = details.get("digest", {}) if isinstance(details, dict) else {}
        if part.get("receipt_id") == digest["receipt_id"] and part.get("part") in wanted:
            found[part["part"]] = details
    if wanted - set(found):
        raise Conflict("Not every part of the receipt can be read yet; ask again in a moment.")
    return [found[number] for number in sorted(found)]
