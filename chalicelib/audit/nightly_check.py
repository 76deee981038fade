"""The scheduled `audit-verify` job (daily; the offline verifier of exports is verify.py): check each
tenant's chain since its last signed checkpoint (and the signature of each erasure receipt and retention
attestation in it), then sign a new digest that chains to the previous one.

A break is an alarm: a structured log line for operators and, once per broken seq, a record
compliance users see (GET /v1/audit/alarms). A broken chain gets no new digest: a signature never
vouches for a chain that does not hold.
"""
from __future__ import annotations

import hashlib
import json
import logging
from dataclasses import dataclass
from typing import Any

from pynamodb.exceptions import DoesNotExist

from ..clock import iso
from ..runtime import runtime
from ..storage.audit import AuditAlarmModel, AuditDigestModel, AuditEventModel
from ..storage.helpers import refusal_means
from ..storage.tenants import every_tenant
from .chain import ALGORITHM, CHECKPOINT, GENESIS, ChainBroken, ChainState, canonical, event_hash
from .signing import audit_signer
from .trail import chain_head, link_waiting
from .verify_receipts import KINDS

log = logging.getLogger("switchboard.audit")


@dataclass(frozen=True)
class Outcome:
    verified: int  # events checked this run
    digest_seq: int | None  # the digest written, if any
    broken: ChainBroken | None = None


def run_audit_verify() -> dict[str, Any]:
    tenants = verified = digests = linked = 0
    broken = []
    for tenant in every_tenant():
        # Events whose appender died before linking them join the chain first, and are verified with it.
        linked += link_waiting(tenant.tenant_id)
        outcome = verify_tenant(tenant.tenant_id)
        tenants, verified = tenants + 1, verified + outcome.verified
        digests += outcome.digest_seq is not None
        if outcome.broken:
            broken.append({"tenant_id": tenant.tenant_id, "seq": outcome.broken.seq, "reason": outcome.broken.reason})
    return {"tenants": tenants, "events_linked": linked, "events_verified": verified, "digests_signed": digests,
            "broken": broken}


def latest_digest(tenant_id: str) -> AuditDigestModel | None:
    for digest in AuditDigestModel.query(tenant_id, scan_index_forward=False, limit=1, consistent_read=True):
        return digest
    return None


def verify_tenant(tenant_id: str) -> Outcome:
    checkpoint = latest_digest(tenant_id)
    state = ChainState(checkpoint.digest["last_seq"] + 1, checkpoint.digest["last_hash"]) if checkpoint \
        else ChainState(1, GENESIS)
    first_seq, first_prev_hash = state.next_seq, state.last_hash
    try:
        if checkpoint:
            _check_checkpoint(tenant_id, checkpoint)
        _follow(tenant_id, state, upto=None)
        # Read the head after the events: appends made meanwhile are followed, a lost tail is not.
        head = chain_head(tenant_id)
        last_seq = int(head.last_seq) if head else 0
        if state.next_seq - 1 < last_seq:
            _follow(tenant_id, state, upto=last_seq)
            if state.next_seq - 1 < last_seq:
                raise ChainBroken(state.next_seq, f"missing (the chain head is at seq {last_seq})")
        if state.next_seq - 1 > last_seq:
            raise ChainBroken(last_seq + 1, f"beyond the chain head (seq {last_seq}): not appended through the chain")
        if head and state.count and head.last_hash != state.last_hash:
            raise ChainBroken(last_seq, "its hash is not the one the chain head recorded")
    except ChainBroken as broken:
        _alarm(tenant_id, broken, checkpoint)
        return Outcome(state.count, None, broken)
    if state.count == 0:
        return Outcome(0, None)
    return Outcome(state.count, _sign(tenant_id, checkpoint, first_seq, first_prev_hash, state))


def _follow(tenant_id: str, state: ChainState, upto: int | None) -> None:
    condition = AuditEventModel.seq >= state.next_seq if upto is None \
        else AuditEventModel.seq.between(state.next_seq, upto)
    for item in AuditEventModel.query(tenant_id, condition, consistent_read=True):
        event = item.as_event()
        state.accept(event)
        _check_receipt(event)


def _check_receipt(event: dict[str, Any]) -> None:
    """An erasure receipt or retention attestation is the audit key's signature over its digest: one
    edited in storage and rehashed into the chain breaks here, without waiting for an export."""
    kind = KINDS.get(event["action"])
    if kind is None:
        return
    details = event["details"]
    if not (isinstance(details, dict) and isinstance(details.get("digest"), dict)
            and details["digest"].get("kind") == kind and isinstance(details.get("signature"), str)
            and audit_signer().verifies(details["digest"], details["signature"])):
        raise ChainBroken(event["seq"], f"its signed {kind} does not verify")


def _check_checkpoint(tenant_id: str, checkpoint: AuditDigestModel) -> None:
    """The checkpoint is genuine, and the event it ends on is still the one it signed."""
    last_seq = checkpoint.digest["last_seq"]
    if not audit_signer().verifies(checkpoint.digest, checkpoint.signature):
        raise ChainBroken(last_seq, f"the signature of checkpoint digest {int(checkpoint.seq)} does not verify")
    if checkpoint.digest.get("kind") != CHECKPOINT:  # e.g. an export's signed digest stored as one
        raise ChainBroken(last_seq, f"checkpoint digest {int(checkpoint.seq)} is not a checkpoint's digest")
    try:
        signed = AuditEventModel.get(tenant_id, last_seq, consistent_read=True)
    except DoesNotExist:
        raise ChainBroken(last_seq, "missing, though a signed checkpoint ends on it") from None
    if signed.hash != checkpoint.digest["last_hash"] or event_hash(signed.as_event()) != signed.hash:
        raise ChainBroken(last_seq, "changed since a signed checkpoint ended on it")


def _sign(tenant_id: str, previous: AuditDigestModel | None, first_seq: int, first_prev_hash: str,
          state: ChainState) -> int | None:
    signer = audit_signer()
    digest = {"kind": CHECKPOINT, "tenant_id": tenant_id, "first_seq": first_seq,
              "first_prev_hash": first_prev_hash, "last_seq": state.next_seq - 1,
              "last_hash": state.last_hash, "event_count": state.count,
              "generated_at": iso(runtime().clock.utcnow()),
              "prev_digest_hash": previous.digest_hash if previous else GENESIS}
    seq = int(previous.seq) + 1 if previous else 1
    with refusal_means() as refused:
        AuditDigestModel(tenant_id, seq, digest=digest, digest_hash=hashlib.sha256(canonical(digest)).hexdigest(),
                         algorithm=ALGORITHM, key_id=signer.key_id, signature=signer.sign(digest)
                         ).save(condition=AuditDigestModel.seq.does_not_exist())
    return None if refused else seq  # refused: a concurrent run signed this checkpoint first


def _alarm(tenant_id: str, broken: ChainBroken, checkpoint: AuditDigestModel | None) -> None:
    log.error(json.dumps({"alarm": "audit_chain_broken", "tenant_id": tenant_id, "seq": broken.seq,
                          "reason": broken.reason}))
    with refusal_means():  # already recorded on an earlier run
        AuditAlarmModel(tenant_id, broken.seq, reason=broken.reason, detected_at=runtime().clock.utcnow(),
                        checkpoint_seq=checkpoint.digest["last_seq"] if checkpoint else 0
                        ).save(condition=AuditAlarmModel.broken_seq.does_not_exist())
