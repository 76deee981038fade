"""The proofs of forgetting in an export: every erasure receipt and retention attestation, each checked
against its own signature, reported by the offline verifier (verify.py) with what they say.

A receipt or attestation is an event's details: `{digest, algorithm, key_id, signature}`, the digest
of kind "erasure_receipt" or "retention_attestation" (chain.py). The chain proves the service recorded
it; its own signature proves the audit key signed exactly that, so one edited in storage and rehashed
into a chain the server then exported still fails here. Findings that are not forgeries (a whole UTC
day in the range without a complete retention attestation; a complete attestation whose oldest
surviving transcript was closed before its cut-off; a receipt in parts with a part not in the file,
which an export's range or a failed erasure can cut off) are reported as FLAG lines. Parts of one
receipt that contradict each other (another visitor, time or key set, a repeated part or conversation)
fail: the audit key never signs those.
"""
from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

from cryptography.hazmat.primitives.asymmetric import ec

from .chain import ERASURE_RECEIPT, RETENTION_ATTESTATION, TRAILER_FIELDS
from .verify import Invalid, _signed_digest

KINDS = {"visitor.erasure_receipt": ERASURE_RECEIPT, "retention.attested": RETENTION_ATTESTATION}


@dataclass(frozen=True)
class Signed:
    seq: int
    target: str
    digest: dict[str, Any]


# What every part of one receipt repeats: a part that differs from another on these is not of the same receipt.
SHARED_FIELDS = ("tenant_id", "visitor_id", "erased_at", "erased_by", "generated_at", "visitor_keys",
                 "identity_link_removed", "parts", "conversation_count")


def as_part(digest: dict[str, Any]) -> dict[str, Any]:
    """A receipt's digest as a part: one signed before receipts came in parts is part 1 of 1."""
    if "part" in digest:
        return digest
    return {**digest, "receipt_id": None, "part": 1, "parts": 1, "conversation_count": len(digest["conversations"])}


def assemble(parts: list[tuple[str, dict[str, Any]]]) -> tuple[dict[str, Any], list[int]]:
    """The whole receipt from (what, digest) pairs of one receipt's parts (each as_part): part 1's fields
    with every part's conversations in order, and the numbers of the parts not given. Invalid when
    the parts contradict each other or, all there, name other than the receipt's count of conversations."""
    parts = sorted(parts, key=lambda pair: pair[1]["part"])
    first_what, first = parts[0]
    numbers: set[int] = set()
    conversations: list[dict[str, Any]] = []
    for what, part in parts:
        differ = [field for field in SHARED_FIELDS if part[field] != first[field]]
        if differ:
            raise Invalid(f"{what} is part of receipt {first['receipt_id']} but differs from {first_what} on "
                          + ", ".join(differ))
        number, count = part["part"], part["parts"]
        if not (isinstance(number, int) and isinstance(count, int) and 1 <= number <= count):
            raise Invalid(f"{what} is numbered part {part['part']!r} of {part['parts']!r}")
        if part["part"] in numbers:
            raise Invalid(f"{what} repeats part {part['part']} of receipt {part['receipt_id']}")
        numbers.add(part["part"])
        conversations += part["conversations"]
    named = [c["conversation_id"] for c in conversations]
    if len(set(named)) != len(named):
        repeated = next(c for c in named if named.count(c) > 1)
        raise Invalid(f"receipt {first['receipt_id']} names conversation {repeated} in more than one part")
    missing = [number for number in range(1, first["parts"] + 1) if number not in numbers]
    if not missing and len(named) != first["conversation_count"]:
        raise Invalid(f"the {first['parts']} part(s) of receipt {first['receipt_id']} name {len(named)} "
                      f"conversation(s), the receipt says {first['conversation_count']}")
    return {**first, "conversations": conversations}, missing


@dataclass(frozen=True)
class Receipt:
    """One erasure receipt as the file holds it: its parts' seqs, the whole, the parts not in the file."""
    seqs: list[int]
    digest: dict[str, Any]
    missing: list[int]


def _time(timestamp: str) -> datetime:
    return datetime.fromisoformat(timestamp.replace("Z", "+00:00")).astimezone(UTC)


def _day(timestamp: str) -> date:
    return _time(timestamp).date()


class Receipts:
    """Collects the signed proofs while verify_file streams the events; checks each as it comes."""

    def __init__(self, public_key: ec.EllipticCurvePublicKey) -> None:
        self._key = public_key
        self.erasures: list[Signed] = []
        self.attestations: list[Signed] = []
        self.receipts: list[Receipt] = []  # the erasures put together, once check has run
        self._first_ts: str | None = None

    def take(self, event: dict[str, Any]) -> None:
        self._first_ts = self._first_ts or event["ts"]
        kind = KINDS.get(event["action"])
        if kind is None:
            return
        what = f"the {kind} at seq {event['seq']}"
        details = event["details"]
        if not isinstance(details, dict) or sorted(details) != sorted(TRAILER_FIELDS):
            raise Invalid(f"{what} is not a signed digest with exactly the fields {list(TRAILER_FIELDS)}")
        digest = _signed_digest(details, self._key, kind, what)
        subject = digest["visitor_id"] if kind == ERASURE_RECEIPT else digest["tenant_id"]
        if event["target"] != subject:
            raise Invalid(f"{what} is signed for {subject}, but recorded against {event['target']}")
        signed = Signed(event["seq"], event["target"], digest)
        (self.erasures if kind == ERASURE_RECEIPT else self.attestations).append(signed)

    def check(self, file_digest: dict[str, Any]) -> None:
        """Every proof is the file's tenant's (known once the trailer's signature holds), and the parts
        of each receipt agree."""
        for signed in self.erasures + self.attestations:
            if signed.digest["tenant_id"] != file_digest["tenant_id"]:
                raise Invalid(f"the {signed.digest['kind']} at seq {signed.seq} is signed for tenant "
                              f"{signed.digest['tenant_id']}, the file is tenant {file_digest['tenant_id']}'s")
        by_receipt: dict[Any, list[Signed]] = defaultdict(list)
        for signed in self.erasures:  # a receipt from before parts is a receipt of its own
            by_receipt[signed.digest.get("receipt_id") or ("seq", signed.seq)].append(signed)
        for parts in by_receipt.values():
            whole, missing = assemble([(f"the erasure_receipt at seq {s.seq}", as_part(s.digest)) for s in parts])
            self.receipts.append(Receipt([s.seq for s in parts], whole, missing))

    def flags(self, file_digest: dict[str, Any]) -> list[str]:
        flags = [f"FLAG seq {s.seq}: retention left a transcript closed {s.digest['oldest_surviving_closed_at']}, "
                 f"at or before its cut-off {s.digest['cutoff']}"
                 for s in self.attestations
                 if s.digest["complete"] and s.digest["oldest_surviving_closed_at"] is not None
                 and s.digest["oldest_surviving_closed_at"] <= s.digest["cutoff"]]
        attested = {_day(s.digest["generated_at"]) for s in self.attestations if s.digest["complete"]}
        flags += [f"FLAG no complete retention attestation on {day.isoformat()}"
                  for day in self._whole_days(file_digest) if day not in attested]
        flags += [f"FLAG seq {', '.join(map(str, r.seqs))}: erasure receipt {r.digest['receipt_id']} of visitor "
                  f"{r.digest['visitor_id']} has {r.digest['parts']} parts, part(s) "
                  f"{', '.join(map(str, r.missing))} not in this file" for r in self.receipts if r.missing]
        return flags

    def _whole_days(self, file_digest: dict[str, Any]) -> list[date]:
        """The UTC days wholly inside the signed range, after the day of the file's first event (the
        tenant may have begun that day) and before the day the file was generated (not over yet)."""
        if self._first_ts is None:
            return []
        start = _time(file_digest["from"])
        first = max(_day(self._first_ts) + timedelta(days=1),
                    start.date() + timedelta(days=0 if start.time() == datetime.min.time() else 1))
        end = min(_day(file_digest["generated_at"]), _day(file_digest["to"]))  # exclusive
        return [first + timedelta(days=n) for n in range((end - first).days)]

    def report(self, listing: bool) -> list[str]:
        if not self.erasures and not self.attestations:
            return []  # FLAG lines say what is missing
        keys = sum(len(r.digest["visitor_keys"]) + sum(len(c["keys"]) for c in r.digest["conversations"])
                   for r in self.receipts)
        days = sorted({_day(s.digest["generated_at"]) for s in self.attestations})
        in_parts = "" if len(self.erasures) == len(self.receipts) else f" in {len(self.erasures)} parts"
        lines = [f"  erasures      {len(self.receipts)} signed receipt(s){in_parts}, {keys} key id(s) named destroyed",
                 f"  retention     {len(self.attestations)} signed attestation(s) on {len(days)} day(s)"
                 + (f", {days[0]}" if len(days) == 1 else f", {days[0]}..{days[-1]}" if days else "")
                 + f", {sum(s.digest['shredded'] for s in self.attestations)} conversation(s) shredded"]
        if listing:
            listed = [(r.seqs[0], _erasure_line(r)) for r in self.receipts]
            listed += [(s.seq, _attestation_line(s)) for s in self.attestations]
            lines += [line for _, line in sorted(listed)]
        return lines


def _erasure_line(r: Receipt) -> str:
    d = r.digest
    by = d["erased_by"]
    seqs = f"seq {', '.join(map(str, r.seqs))}"
    parts = "" if d["parts"] == 1 else f" (receipt {d['receipt_id']}, {len(r.seqs)} of {d['parts']} parts)"
    return (f"    {seqs} erasure of visitor {d['visitor_id']} at {d['erased_at']} by {by['kind']} {by['id']}{parts}: "
            f"{len(d['visitor_keys'])} visitor key(s), {len(d['conversations'])} conversation(s) "
            f"({sum(len(c['keys']) for c in d['conversations'])} key(s)), identity link "
            + {True: "removed", False: "none", None: "unknown"}[d["identity_link_removed"]])


def _attestation_line(s: Signed) -> str:
    d = s.digest
    return (f"    seq {s.seq} retention {d['generated_at']}: {d['retention_days']} days, cut-off {d['cutoff']}, "
            f"shredded {d['shredded']} ({d['keys_destroyed']} key(s)), oldest surviving closed "
            f"{d['oldest_surviving_closed_at'] or '(none)'}" + ("" if d["complete"] else ", run stopped part-way"))
