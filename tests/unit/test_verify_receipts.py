"""The offline verifier's checks of erasure receipts and retention attestations (chalicelib/audit/
verify_receipts.py), on digests signed here with a key of the test's own: what it refuses and what it
flags. The functional tests (test_erasure_receipts.py, test_retention_attestations.py) run it on real
exports."""
from __future__ import annotations

import base64
from typing import Any

import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec

from chalicelib.audit.chain import DIGEST_FIELDS, EARLIER_DIGEST_FIELDS, canonical
from chalicelib.audit.verify import Invalid
from chalicelib.audit.verify_receipts import Receipts

KEY = ec.generate_private_key(ec.SECP256R1())
T = "t_1"
FILE = {"tenant_id": T, "from": "2026-12-01T00:00:00Z", "to": "2027-01-01T00:00:00Z",
        "generated_at": "2026-12-05T10:00:00Z"}


def signed(digest: dict[str, Any], key: ec.EllipticCurvePrivateKey = KEY) -> dict[str, Any]:
    signature = key.sign(canonical(digest), ec.ECDSA(hashes.SHA256()))
    return {"digest": digest, "algorithm": "ECDSA_P256_SHA256", "key_id": "k", "signature":
            base64.b64encode(signature).decode()}


def attestation(day: int, oldest: str | None = None, complete: bool = True, tenant: str = T) -> dict[str, Any]:
    return {"kind": "retention_attestation", "tenant_id": tenant, "generated_at": f"2026-12-{day:02d}T01:00:00Z",
            "retention_days": 30, "cutoff": f"2026-11-{day:02d}T01:00:00Z", "shredded": 0,
            "conversations_sha256": "0" * 64, "keys_destroyed": 0, "keys_sha256": "0" * 64,
            "oldest_surviving_closed_at": oldest, "complete": complete}


def receipt(visitor: str = "v_1", part: int = 1, parts: int = 1, conversations: tuple[str, ...] = (),
            count: int | None = None) -> dict[str, Any]:
    return {"kind": "erasure_receipt", "tenant_id": T, "visitor_id": visitor, "receipt_id": "er_1",
            "part": part, "parts": parts, "erased_at": "2026-12-02T00:00:00Z",
            "erased_by": {"kind": "agent", "id": "a_1"}, "generated_at": "2026-12-02T00:00:00Z",
            "visitor_keys": ["vk|1"], "conversation_count": len(conversations) if count is None else count,
            "conversations": [{"conversation_id": c, "keys": [f"ck|{c}|1"]} for c in conversations],
            "identity_link_removed": False}


def parts(*conversations: tuple[str, ...], total: int = 5, **fields: Any) -> list[dict[str, Any]]:
    """A receipt in len(conversations) parts, part n naming conversations[n - 1], as erasure events."""
    return [event(10 + n, "visitor.erasure_receipt", "v_1",
                  signed({**receipt(part=n, parts=len(conversations), conversations=names, count=total),
                          **(fields if n == len(conversations) else {})}))  # the last part altered
            for n, names in enumerate(conversations, start=1)]


def event(seq: int, action: str, target: str, details: Any, ts: str = "2026-12-01T09:00:00Z") -> dict[str, Any]:
    return {"seq": seq, "ts": ts, "action": action, "target": target, "details": details}


def collected(*events: dict[str, Any]) -> Receipts:
    receipts = Receipts(KEY.public_key())
    receipts.take(event(1, "tenant.created", T, {}))  # the tenant began on Dec 1st
    for e in events:
        receipts.take(e)
    receipts.check(FILE)
    return receipts


def test_the_digests_have_the_fields_the_service_signs():
    assert sorted(attestation(1)) == sorted(DIGEST_FIELDS["retention_attestation"])
    assert sorted(receipt()) == sorted(DIGEST_FIELDS["erasure_receipt"])


def test_days_without_a_complete_attestation_and_late_survivors_are_flagged():
    receipts = collected(
        event(2, "retention.attested", T, signed(attestation(2))),
        event(3, "retention.attested", T, signed(attestation(3, complete=False))),  # stopped part-way
        event(4, "retention.attested", T, signed(attestation(4, oldest="2026-11-04T01:00:00Z"))))  # at the cut-off
    assert receipts.flags(FILE) == [
        "FLAG seq 4: retention left a transcript closed 2026-11-04T01:00:00Z, at or before its cut-off "
        "2026-11-04T01:00:00Z",
        "FLAG no complete retention attestation on 2026-12-03"]  # Dec 1st may be partial, Dec 5th is not over
    assert collected(*(event(n, "retention.attested", T, signed(attestation(n, oldest="2026-11-30T00:00:00Z")))
                       for n in (2, 3, 4))).flags(FILE) == []


@pytest.mark.parametrize("doctored, message", [
    (event(2, "visitor.erasure_receipt", "v_1", {**signed(receipt()), "note": "x"}), "exactly the fields"),
    (event(2, "visitor.erasure_receipt", "v_2", signed(receipt("v_1"))), "signed for v_1, but recorded against v_2"),
    (event(2, "visitor.erasure_receipt", "v_1", signed(receipt(), ec.generate_private_key(ec.SECP256R1()))),
     "does not verify with this public key"),
    (event(2, "visitor.erasure_receipt", T, signed(attestation(2))), "signed as 'retention_attestation'"),
    (event(2, "retention.attested", "t_2", signed(attestation(2, tenant="t_2"))), "signed for tenant t_2"),
])
def test_a_doctored_or_misplaced_receipt_is_refused(doctored: dict[str, Any], message: str):
    with pytest.raises(Invalid, match=message):
        collected(doctored)


def test_the_parts_of_a_receipt_make_one_receipt():
    receipts = collected(*parts(("c_1", "c_2"), ("c_3", "c_4"), ("c_5",)))
    assert receipts.flags(FILE) == ["FLAG no complete retention attestation on 2026-12-02",
                                    "FLAG no complete retention attestation on 2026-12-03",
                                    "FLAG no complete retention attestation on 2026-12-04"]
    report = receipts.report(listing=True)
    assert report[0] == "  erasures      1 signed receipt(s) in 3 parts, 6 key id(s) named destroyed"
    assert report[2] == ("    seq 11, 12, 13 erasure of visitor v_1 at 2026-12-02T00:00:00Z by agent a_1 (receipt "
                         "er_1, 3 of 3 parts): 1 visitor key(s), 5 conversation(s) (5 key(s)), identity link none")


def test_a_part_not_in_the_file_is_flagged():
    first, _, third = parts(("c_1", "c_2"), ("c_3", "c_4"), ("c_5",))
    receipts = collected(first, third)
    assert receipts.flags(FILE)[-1] == ("FLAG seq 11, 13: erasure receipt er_1 of visitor v_1 has 3 parts, part(s) 2 "
                                        "not in this file")
    assert receipts.report(listing=False)[0] == \
        "  erasures      1 signed receipt(s) in 2 parts, 4 key id(s) named destroyed"


@pytest.mark.parametrize("events, message", [
    (parts(("c_1",), ("c_2",), total=2, visitor_keys=["vk|1", "vk|2"]), "differs from .* on visitor_keys"),
    (parts(("c_1",), ("c_1",), total=2), "names conversation c_1 in more than one part"),
    (parts(("c_1",), ("c_2",), total=3), "name 2 conversation.s., the receipt says 3"),
    (parts(("c_1",), ("c_2",), total=2)[:1] * 2, "repeats part 1"),
    (parts(("c_1",), ("c_2",), total=2, part=3), "is numbered part 3 of 2"),
])
def test_parts_that_contradict_each_other_are_refused(events: list[dict[str, Any]], message: str):
    with pytest.raises(Invalid, match=message):
        collected(*events)


def test_a_receipt_signed_before_receipts_came_in_parts_still_verifies():
    earlier = {k: v for k, v in receipt(conversations=("c_1",)).items()
               if k not in ("receipt_id", "part", "parts", "conversation_count")}
    assert sorted(earlier) == sorted(EARLIER_DIGEST_FIELDS["erasure_receipt"])
    receipts = collected(event(2, "visitor.erasure_receipt", "v_1", signed(earlier)),
                         event(3, "visitor.erasure_receipt", "v_1", signed(earlier)))  # two erasures, two receipts
    assert receipts.report(listing=False)[0] == "  erasures      2 signed receipt(s), 4 key id(s) named destroyed"
