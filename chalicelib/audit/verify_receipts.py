"""The proofs of forgetting in an export: every erasure receipt and retention attestation, each checked
against its own signature, reported by the offline verifier (verify.py) with what they say.

A receipt or attestation is an event's details: `{digest, algorithm, key_id, signature}`, the digest
of kind "erasure_receipt" or "retention_attestation" (chain.py). The chain proves the service recorded
it; its own signature proves the audit key signed exactly that, so one edited in storage and rehashed
into a chain the server then exported still fails here. Findings that are not forgeries (a whole UTC
day in the range without a complete retention attestation; a complete attestation whose oldest
surviving transcript was closed before its cut-off) are reported as FLAG lines.
"""
from __future__ import annotations

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
        """Every proof is the file's tenant's (known once the trailer's signature holds)."""
        for signed in self.erasures + self.attestations:
            if signed.digest["tenant_id"] != file_digest["tenant_id"]:
                raise Invalid(f"the {signed.digest['kind']} at seq {signed.seq} is signed for tenant "
                              f"{signed.digest['tenant_id']}, the file is tenant {file_digest['tenant_id']}'s")

    def flags(self, file_digest: dict[str, Any]) -> list[str]:
        flags = [f"FLAG seq {s.seq}: retention left a transcript closed {s.digest['oldest_surviving_closed_at']}, "
                 f"at or before its cut-off {s.digest['cutoff']}"
                 for s in self.attestations
                 if s.digest["complete"] and s.digest["oldest_surviving_closed_at"] is not None
                 and s.digest["oldest_surviving_closed_at"] <= s.digest["cutoff"]]
        attested = {_day(s.digest["generated_at"]) for s in self.attestations if s.digest["complete"]}
        flags += [f"FLAG no complete retention attestation on {day.isoformat()}"
                  for day in self._whole_days(file_digest) if day not in attested]
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
        keys = sum(len(s.digest["visitor_keys"]) + sum(len(c["keys"]) for c in s.digest["conversations"])
                   for s in self.erasures)
        days = sorted({_day(s.digest["generated_at"]) for s in self.attestations})
        lines = [f"  erasures      {len(self.erasures)} signed receipt(s), {keys} key id(s) named destroyed",
                 f"  retention     {len(self.attestations)} signed attestation(s) on {len(days)} day(s)"
                 + (f", {days[0]}" if len(days) == 1 else f", {days[0]}..{days[-1]}" if days else "")
                 + f", {sum(s.digest['shredded'] for s in self.attestations)} conversation(s) shredded"]
        if listing:
            lines += [_erasure_line(s) if s.digest["kind"] == ERASURE_RECEIPT else _attestation_line(s)
                      for s in sorted(self.erasures + self.attestations, key=lambda s: s.seq)]
        return lines


def _erasure_line(s: Signed) -> str:
    d = s.digest
    by = d["erased_by"]
    return (f"    seq {s.seq} erasure of visitor {d['visitor_id']} at {d['erased_at']} by {by['kind']} {by['id']}: "
            f"{len(d['visitor_keys'])} visitor key(s), {len(d['conversations'])} conversation(s) "
            f"({sum(len(c['keys']) for c in d['conversations'])} key(s)), identity link "
            + {True: "removed", False: "none", None: "unknown"}[d["identity_link_removed"]])


def _attestation_line(s: Signed) -> str:
    d = s.digest
    return (f"    seq {s.seq} retention {d['generated_at']}: {d['retention_days']} days, cut-off {d['cutoff']}, "
            f"shredded {d['shredded']} ({d['keys_destroyed']} key(s)), oldest surviving closed "
            f"{d['oldest_surviving_closed_at'] or '(none)'}" + ("" if d["complete"] else ", run stopped part-way"))
