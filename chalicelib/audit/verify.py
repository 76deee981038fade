"""Verify a switchboard.audit.v1 export offline, with nothing but the file and the public key.

    python -m chalicelib.audit.verify FILE --public-key KEY.pem [--tenant TENANT_ID]
        [--checkpoint CHECKPOINTS.json ...] [--previous EARLIER_FILE] [--receipts] [--strict]

What it reports comes from the signed digest alone: the unsigned header must agree with it, and no
line may be anything but the header, an event or the trailer. Exits 0 with a summary when every
hash, the chain, the digest and the signature hold (and each erasure receipt's and retention
attestation's own signature: verify_receipts.py); 1 naming the first failure otherwise; 2 on
unusable arguments. Needs only the standard library and `cryptography`; docs/audit.md has the format.
"""
from __future__ import annotations

import argparse
import base64
import gzip
import json
import sys
import zlib
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec

from .chain import (
    ALGORITHM,
    CHECKPOINT,
    DIGEST_FIELDS,
    EARLIER_DIGEST_FIELDS,
    EVENT_FIELDS,
    EXPORT,
    FORMAT,
    GENESIS,
    HEADER_FIELDS,
    TRAILER_FIELDS,
    ChainBroken,
    ChainState,
    canonical,
)


class Invalid(Exception):
    """The file (or a checkpoint) does not verify; the message says where."""


class Unusable(Exception):
    """An argument cannot be used: a missing file, a key that is not P-256, a checkpoint file that is not JSON."""


@dataclass(frozen=True)
class Checkpoint:
    number: Any  # its seq in GET /v1/audit/digests as the file says, or its place in the file (for messages)
    digest: dict[str, Any]  # signed, kind "checkpoint"

    def pins(self) -> dict[int, str]:
        """The seqs whose hash this checkpoint vouches for (not seq 0: every chain starts from 64 zeros)."""
        pins = {self.digest["last_seq"]: self.digest["last_hash"]}
        if self.digest["first_seq"] > 1:
            pins[self.digest["first_seq"] - 1] = self.digest["first_prev_hash"]
        return pins

    def __str__(self) -> str:
        return f"{self.number} (seq {self.digest['first_seq']}..{self.digest['last_seq']})"


@dataclass
class Verified:
    digest: dict[str, Any]  # the export's signed digest: everything reported comes from here
    key_id: str
    checkpoints: list[Checkpoint] = field(default_factory=list)  # those that pinned a seq of the file


def _unique_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    # A repeated key is content one JSON reader sees and another does not.
    keys = [key for key, _ in pairs]
    if len(set(keys)) != len(keys):
        raise ValueError("a repeated key")
    return dict(pairs)


def _lines(path: str) -> Iterator[tuple[int, dict[str, Any]]]:
    try:
        file = open(path, "rb")
    except OSError as err:
        raise Unusable(f"cannot read {path}: {err.strerror}") from None
    try:
        with file, gzip.GzipFile(fileobj=file) as stream:
            for number, raw in enumerate(stream, start=1):
                try:
                    line = json.loads(raw, object_pairs_hook=_unique_keys)
                except ValueError as err:
                    raise Invalid(f"line {number} is not a JSON object ({err})") from None
                if not isinstance(line, dict):
                    raise Invalid(f"line {number} is not a JSON object")
                yield number, line
    except (OSError, EOFError, zlib.error) as err:
        raise Invalid(f"not a whole gzip stream ({err}): the file is truncated or damaged") from None


def _signed_digest(signed: Any, public_key: ec.EllipticCurvePublicKey, kind: str, what: str) -> dict[str, Any]:
    """The digest of a trailer or checkpoint whose signature holds, of the kind expected."""
    if not isinstance(signed, dict) or not isinstance(signed.get("digest"), dict):
        raise Invalid(f"{what} holds no signed digest")
    if signed.get("algorithm") != ALGORITHM:
        raise Invalid(f"{what} names algorithm {signed.get('algorithm')!r}, not {ALGORITHM}")
    digest: dict[str, Any] = signed["digest"]
    signature = signed.get("signature")
    if not (isinstance(signature, str) and _signature_holds(public_key, signature, digest)):
        raise Invalid(f"the signature of {what} does not verify with this public key: its digest was "
                      "changed or another key signed it")
    if digest.get("kind") != kind:
        raise Invalid(f"{what} is signed as {digest.get('kind')!r}, not as {kind!r}: a digest of one kind "
                      "never passes for another")
    if sorted(digest) not in (sorted(DIGEST_FIELDS[kind]), sorted(EARLIER_DIGEST_FIELDS.get(kind, ()))):
        raise Invalid(f"{what}'s digest has the fields {sorted(digest)}, not an {kind} digest's")
    return digest


def _signature_holds(public_key: ec.EllipticCurvePublicKey, signature: str, digest: dict[str, Any]) -> bool:
    try:
        public_key.verify(base64.b64decode(signature, validate=True), canonical(digest), ec.ECDSA(hashes.SHA256()))
    except (InvalidSignature, ValueError, TypeError):
        return False
    return True


def verify_file(path: str, public_key: ec.EllipticCurvePublicKey, *, tenant: str | None = None,
                checkpoints: Sequence[Checkpoint] = (),
                on_event: Callable[[dict[str, Any]], None] | None = None) -> Verified:
    """The signed digest of a file that verifies, line by line in constant memory; Invalid otherwise.
    on_event sees each event once the chain has accepted it (verify_receipts.py)."""
    wanted = {seq for checkpoint in checkpoints for seq in checkpoint.pins()}
    pinned: dict[int, str] = {}  # the file's hash at each seq a checkpoint vouches for
    lines = _lines(path)
    _, header = next(lines, (0, None))
    if header is None:
        raise Invalid("the file is empty")
    if sorted(header) != sorted(HEADER_FIELDS) or header["format"] != FORMAT:
        raise Invalid(f"line 1 is not a {FORMAT} header with exactly the fields {list(HEADER_FIELDS)}")
    state: ChainState | None = None
    first: tuple[int, str] | None = None
    trailer = None
    earliest = latest = None
    for number, line in lines:
        if trailer is not None:
            raise Invalid(f"line {number} follows the trailer: nothing may come after the signed end")
        if sorted(line) == sorted(TRAILER_FIELDS):
            trailer = line
            continue
        if sorted(line) != sorted(EVENT_FIELDS):
            raise Invalid(f"line {number} is neither an event nor the trailer (its fields: {sorted(line)})")
        if state is None:  # a middle range starts from whatever its first event links to
            seq = line["seq"]
            if not isinstance(seq, int) or isinstance(seq, bool) or seq < 1:
                raise Invalid(f"line {number}: the first event has no valid seq")
            state, first = ChainState(seq, GENESIS if seq == 1 else line["prev_hash"]), (seq, line["prev_hash"])
        try:
            state.accept(line)
        except ChainBroken as broken:
            raise Invalid(f"chain broken at seq {broken.seq}: {broken.reason}") from None
        if not isinstance(line["ts"], str):
            raise Invalid(f"seq {line['seq']}: ts is not a time")
        earliest, latest = min(earliest or line["ts"], line["ts"]), max(latest or line["ts"], line["ts"])
        if line["seq"] in wanted:
            pinned[line["seq"]] = line["hash"]
        if on_event is not None:
            on_event(line)
    if trailer is None:
        raise Invalid("no trailer: the file is truncated or its signed end was removed")
    digest = _signed_digest(trailer, public_key, EXPORT, "the trailer")
    in_file = {"first_seq": first[0] if first else None, "first_prev_hash": first[1] if first else None,
               "last_seq": state.next_seq - 1 if state else None, "last_hash": state.last_hash if state else None,
               "event_count": state.count if state else 0}
    for key, value in in_file.items():
        if digest[key] != value:
            raise Invalid(f"the events do not match the signed digest: {key} is {value!r} in the file, "
                          f"{digest[key]!r} signed")
    for key in ("tenant_id", "from", "to", "generated_at"):
        if header[key] != digest[key]:
            raise Invalid(f"the unsigned header disagrees with the signed digest: {key} is {header[key]!r} "
                          f"in the header, {digest[key]!r} signed")
    if header["key_id"] != trailer["key_id"]:
        raise Invalid(f"the header names key {header['key_id']!r}, the trailer {trailer['key_id']!r}")
    if earliest is not None and latest is not None and not digest["from"] <= earliest <= latest < digest["to"]:
        raise Invalid(f"events from {earliest} to {latest} lie outside the signed range "
                      f"[{digest['from']}, {digest['to']})")
    if tenant is not None and digest["tenant_id"] != tenant:
        raise Invalid(f"the file is signed for tenant {digest['tenant_id']}, not {tenant}")
    verified = Verified(digest, trailer["key_id"])
    if checkpoints:
        verified.checkpoints = _match_checkpoints(digest, pinned, checkpoints)
    return verified


def _match_checkpoints(digest: dict[str, Any], pinned: dict[int, str],
                       checkpoints: Sequence[Checkpoint]) -> list[Checkpoint]:
    """Every checkpoint is the tenant's, every seq one pins inside the file has the hash it signed,
    and at least one pins a seq of the file: the export is the chain the audit-verify job signed."""
    if digest["event_count"]:
        pinned[digest["first_seq"] - 1] = digest["first_prev_hash"]
    matched = []
    for checkpoint in checkpoints:
        if checkpoint.digest["tenant_id"] != digest["tenant_id"]:
            raise Invalid(f"checkpoint {checkpoint.number} is tenant {checkpoint.digest['tenant_id']}'s, "
                          f"the file tenant {digest['tenant_id']}'s")
        inside = {seq: signed for seq, signed in checkpoint.pins().items() if seq in pinned}
        for seq, signed in inside.items():
            if pinned[seq] != signed:
                raise Invalid(f"seq {seq} has hash {pinned[seq]} in the file, but signed checkpoint "
                              f"{checkpoint.number} vouches for {signed}: the chain was rewritten")
        if inside:
            matched.append(checkpoint)
    if not matched:
        span = f"seq {digest['first_seq']}..{digest['last_seq']}" if digest["event_count"] else "no events"
        raise Invalid(f"no checkpoint given pins a seq of this file ({span}); given: "
                      + ", ".join(map(str, checkpoints)))
    return sorted(matched, key=lambda checkpoint: checkpoint.digest["first_seq"])


def load_checkpoints(path: str, public_key: ec.EllipticCurvePublicKey) -> list[Checkpoint]:
    """Checkpoints saved from GET /v1/audit/digests: the whole answer or one of its items."""
    try:
        with open(path, encoding="utf-8") as stream:
            saved = json.load(stream, object_pairs_hook=_unique_keys)
    except (OSError, ValueError) as err:
        raise Unusable(f"cannot read checkpoint file {path}: {err}") from None
    items = saved.get("items") if isinstance(saved, dict) and "items" in saved else [saved]
    if not isinstance(items, list) or not items:
        raise Unusable(f"{path} holds no checkpoint")
    numbers = [item.get("seq", n + 1) if isinstance(item, dict) else n + 1 for n, item in enumerate(items)]
    return [Checkpoint(number, _signed_digest(item, public_key, CHECKPOINT, f"checkpoint {number} in {path}"))
            for number, item in zip(numbers, items, strict=True)]


def load_public_key(path: str) -> ec.EllipticCurvePublicKey:
    try:
        with open(path, "rb") as stream:
            key = serialization.load_pem_public_key(stream.read())
    except (OSError, ValueError) as err:
        raise Unusable(f"cannot use {path} as the public key: {err}") from None
    if not isinstance(key, ec.EllipticCurvePublicKey) or key.curve.name != "secp256r1":
        raise Unusable(f"{path} is not an ECDSA P-256 public key")
    return key


def summary(path: str, verified: Verified, key_path: str) -> list[str]:
    d = verified.digest
    seqs = f"seq {d['first_seq']}..{d['last_seq']}" if d["event_count"] else "none in the range"
    lines = [f"OK {path}: every event, the chain and the signature hold",
             f"  tenant        {d['tenant_id']}",
             f"  range         {d['from']} (inclusive) to {d['to']} (exclusive)",
             f"  events        {d['event_count']}, {seqs}"]
    if d["event_count"]:
        lines += [f"  links to      {d['first_prev_hash']}" + (" (the chain's start)" if d["first_seq"] == 1 else ""),
                  f"  last hash     {d['last_hash']}"]
    lines += [f"  generated at  {d['generated_at']}",
              f"  signed by     key {verified.key_id} ({ALGORITHM}), verified with {key_path}"]
    if verified.checkpoints:
        lines.append("  checkpoints   matches signed checkpoint " + ", ".join(map(str, verified.checkpoints)))
    return lines


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m chalicelib.audit.verify", description=__doc__.splitlines()[0])
    parser.add_argument("file", help="the export (.jsonl.gz)")
    parser.add_argument("--public-key", required=True, help="PEM from GET /v1/audit/public-keys")
    parser.add_argument("--tenant", help="fail unless the file is signed for this tenant id")
    parser.add_argument("--checkpoint", action="append", default=[], metavar="FILE",
                        help="JSON saved from GET /v1/audit/digests (the answer or one item); repeatable")
    parser.add_argument("--previous", metavar="FILE", help="the export of the range just before, to check they join")
    parser.add_argument("--receipts", action="store_true",
                        help="list each erasure receipt and retention attestation, not only their totals")
    parser.add_argument("--strict", action="store_true", help="exit 1 on a FLAG (e.g. a day without attestation)")
    args = parser.parse_args(argv)
    from .verify_receipts import Receipts  # it builds on this module

    try:
        key = load_public_key(args.public_key)
        receipts = Receipts(key)
        checkpoints = [checkpoint for path in args.checkpoint for checkpoint in load_checkpoints(path, key)]
        verified = verify_file(args.file, key, tenant=args.tenant, checkpoints=checkpoints, on_event=receipts.take)
        receipts.check(verified.digest)
        lines = summary(args.file, verified, args.public_key)
        if args.previous:
            lines.append(_joins(verified.digest, args.previous, key))
        lines += receipts.report(args.receipts)
        flags = receipts.flags(verified.digest)
    except Unusable as err:
        print(f"cannot verify: {err}", file=sys.stderr)
        return 2
    except Invalid as err:
        print(f"INVALID {args.file}: {err}")
        return 1
    print("\n".join(lines + [f"  {flag}" for flag in flags]))
    return 1 if flags and args.strict else 0


def _joins(digest: dict[str, Any], before_path: str, key: ec.EllipticCurvePublicKey) -> str:
    try:
        before = verify_file(before_path, key, tenant=digest["tenant_id"]).digest
    except Invalid as err:
        raise Invalid(f"the previous file {before_path} does not verify: {err}") from None
    if digest["first_seq"] != (before["last_seq"] or 0) + 1 or digest["first_prev_hash"] != before["last_hash"]:
        raise Invalid(f"does not continue {before_path}: its first event (seq {digest['first_seq']}) does not "
                      f"link to that file's last (seq {before['last_seq']})")
    return f"  continues     {before_path}, whose last event (seq {before['last_seq']}) it links to"


if __name__ == "__main__":
    # As the package's module, not this file's second copy named __main__: verify_receipts imports the
    # package's, and raises its Invalid, which this copy's main would not catch.
    from chalicelib.audit import verify

    sys.exit(verify.main())
