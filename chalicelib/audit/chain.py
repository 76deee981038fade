"""The hash chain of switchboard.audit.v1, shared by the service and the offline verifier.

Standard library only: auditors run chalicelib.audit.verify with nothing but `cryptography`.
"""
from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

FORMAT = "switchboard.audit.v1"
ALGORITHM = "ECDSA_P256_SHA256"
GENESIS = "0" * 64
_HASH = re.compile("[0-9a-f]{64}")
EVENT_FIELDS = ("seq", "ts", "actor", "action", "target", "details", "prev_hash", "hash")
HEADER_FIELDS = ("format", "tenant_id", "from", "to", "generated_at", "key_id")
TRAILER_FIELDS = ("digest", "algorithm", "key_id", "signature")
# Every signed digest says what it is, so an export's can never pass for a checkpoint's or back.
EXPORT, CHECKPOINT = "export", "checkpoint"
# Proofs of forgetting (docs/audit.md): what an erasure and a retention run destroyed, signed by the same key.
ERASURE_RECEIPT, RETENTION_ATTESTATION = "erasure_receipt", "retention_attestation"
DIGEST_FIELDS = {
    EXPORT: ("kind", "tenant_id", "from", "to", "first_seq", "first_prev_hash", "last_seq", "last_hash",
             "event_count", "generated_at"),
    CHECKPOINT: ("kind", "tenant_id", "first_seq", "first_prev_hash", "last_seq", "last_hash", "event_count",
                 "generated_at", "prev_digest_hash"),
    # One part of a receipt (verify_receipts.py puts the parts together); most receipts are part 1 of 1.
    ERASURE_RECEIPT: ("kind", "tenant_id", "visitor_id", "receipt_id", "part", "parts", "erased_at", "erased_by",
                      "generated_at", "visitor_keys", "conversation_count", "conversations", "identity_link_removed"),
    RETENTION_ATTESTATION: ("kind", "tenant_id", "generated_at", "retention_days", "cutoff", "shredded",
                            "conversations_sha256", "keys_destroyed", "keys_sha256", "oldest_surviving_closed_at",
                            "complete"),
    # A visitor's access bundle (chalicelib/audit/verify_access.py): its every file by name, sha256 and size.
    "access_manifest": ("kind", "format", "tenant_id", "visitor_id", "export_id", "generated_at", "requested_by",
                        "erased_at", "files"),
}
# Receipts signed before they came in parts (without receipt_id, part, parts, conversation_count) still
# verify: each is the whole receipt, read as part 1 of 1.
EARLIER_DIGEST_FIELDS = {ERASURE_RECEIPT: ("kind", "tenant_id", "visitor_id", "erased_at", "erased_by",
                                           "generated_at", "visitor_keys", "conversations", "identity_link_removed")}


def canonical(value: Any) -> bytes:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def event_hash(event: Mapping[str, Any]) -> str:
    """SHA-256 over the previous hash's bytes and the canonical event without its own hash."""
    body = {key: value for key, value in event.items() if key != "hash"}
    return hashlib.sha256(bytes.fromhex(event["prev_hash"]) + canonical(body)).hexdigest()


def is_hash(value: Any) -> bool:
    return isinstance(value, str) and _HASH.fullmatch(value) is not None


class ChainBroken(Exception):
    def __init__(self, seq: int, reason: str) -> None:
        super().__init__(f"seq {seq}: {reason}")
        self.seq, self.reason = seq, reason


@dataclass
class ChainState:
    """Where a verified chain has reached: the next seq it expects and the hash it must link to."""
    next_seq: int
    last_hash: str
    count: int = 0

    def accept(self, event: Mapping[str, Any]) -> None:
        """Check one event in order; ChainBroken names the first seq that does not hold."""
        seq = event.get("seq")
        if not isinstance(seq, int) or isinstance(seq, bool):
            raise ChainBroken(self.next_seq, "an event without an integer seq")
        if seq > self.next_seq:
            raise ChainBroken(self.next_seq, f"missing (the next event is seq {seq})")
        if seq < self.next_seq:
            raise ChainBroken(seq, f"out of order or repeated (expected seq {self.next_seq})")
        if sorted(event) != sorted(EVENT_FIELDS):
            raise ChainBroken(seq, "fields are missing or extra")
        if not (is_hash(event["prev_hash"]) and is_hash(event["hash"])):
            raise ChainBroken(seq, "prev_hash or hash is not 64 lowercase hex digits")
        if event["prev_hash"] != self.last_hash:
            raise ChainBroken(seq, "prev_hash does not link to the event before")
        if event_hash(event) != event["hash"]:
            raise ChainBroken(seq, "hash does not match the event's content")
        self.next_seq, self.last_hash, self.count = seq + 1, event["hash"], self.count + 1
