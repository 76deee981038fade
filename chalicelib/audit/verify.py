"""Verify a switchboard.audit.v1 export offline, with nothing but the file and the public key.

    python -m chalicelib.audit.verify FILE --public-key KEY.pem [--previous EARLIER_FILE]

Prints one line and exits 0 when every hash, the chain, the count and the signature hold; exits 1
naming the first broken seq (or what else is wrong) otherwise, 2 on unusable arguments.
Needs only the standard library and `cryptography`; the format is in docs/audit.md.
"""
from __future__ import annotations

import argparse
import base64
import gzip
import json
import sys
from collections.abc import Iterator
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec

from .chain import ALGORITHM, FORMAT, GENESIS, ChainBroken, ChainState, canonical


class Invalid(Exception):
    """The file does not verify; the message says where."""


def _lines(path: str) -> Iterator[tuple[int, dict[str, Any]]]:
    try:
        with gzip.open(path, "rt", encoding="utf-8") as stream:
            for number, line in enumerate(stream, start=1):
                try:
                    yield number, json.loads(line)
                except ValueError:
                    raise Invalid(f"line {number} is not JSON") from None
    except (OSError, EOFError) as err:
        raise Invalid(f"not a readable gzip file: {err}") from None


def verify_file(path: str, public_key: ec.EllipticCurvePublicKey) -> dict[str, Any]:
    """The signed digest of a file that verifies; Invalid otherwise."""
    lines = _lines(path)
    _, header = next(lines, (0, None))
    if not isinstance(header, dict) or header.get("format") != FORMAT:
        raise Invalid(f"the first line is not a {FORMAT} header")
    state: ChainState | None = None
    first_seq = trailer = None
    for number, line in lines:
        if trailer is not None:
            raise Invalid(f"line {number} follows the trailer")
        if "digest" in line:
            trailer = line
            continue
        if state is None:  # a middle range starts from whatever its first event links to
            first_seq = line.get("seq")
            if not isinstance(first_seq, int) or first_seq < 1:
                raise Invalid(f"line {number}: the first event has no valid seq")
            state = ChainState(first_seq, GENESIS if first_seq == 1 else str(line.get("prev_hash")))
        try:
            state.accept(line)
        except ChainBroken as broken:
            raise Invalid(f"chain broken at seq {broken.seq}: {broken.reason}") from None
    if trailer is None:
        raise Invalid("no trailer: the file is truncated")
    digest = trailer["digest"]
    expected = {"tenant_id": header.get("tenant_id"), "first_seq": first_seq,
                "last_seq": state.next_seq - 1 if state else None,
                "last_hash": state.last_hash if state else None, "event_count": state.count if state else 0}
    for key, value in expected.items():
        if digest.get(key) != value:
            raise Invalid(f"the digest's {key} is {digest.get(key)!r}, the events say {value!r}")
    if trailer.get("algorithm") != ALGORITHM or trailer.get("key_id") != header.get("key_id"):
        raise Invalid("the trailer names another algorithm or key than the header")
    try:
        public_key.verify(base64.b64decode(trailer["signature"]), canonical(digest), ec.ECDSA(hashes.SHA256()))
    except (InvalidSignature, ValueError, TypeError):
        raise Invalid("the signature does not verify with this public key") from None
    return {**digest, "first_prev_hash": _first_prev_hash(path)}


def _first_prev_hash(path: str) -> str | None:
    for _, line in _lines(path):
        if "seq" in line:
            return line.get("prev_hash")
    return None


def load_public_key(path: str) -> ec.EllipticCurvePublicKey:
    with open(path, "rb") as stream:
        key = serialization.load_pem_public_key(stream.read())
    if not isinstance(key, ec.EllipticCurvePublicKey) or key.curve.name != "secp256r1":
        raise Invalid("the public key is not an ECDSA P-256 key")
    return key


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m chalicelib.audit.verify", description=__doc__.splitlines()[0])
    parser.add_argument("file", help="the export (.jsonl.gz)")
    parser.add_argument("--public-key", required=True, help="PEM from GET /v1/audit/public-keys")
    parser.add_argument("--previous", help="the export of the range just before, to check they join")
    args = parser.parse_args(argv)
    try:
        key = load_public_key(args.public_key)
        digest = verify_file(args.file, key)
        if args.previous:
            before = verify_file(args.previous, key)
            if digest["first_seq"] != (before["last_seq"] or 0) + 1 or digest["first_prev_hash"] != before["last_hash"]:
                raise Invalid(f"does not continue {args.previous}: seq {digest['first_seq']} does not link to "
                              f"seq {before['last_seq']}")
    except (Invalid, OSError) as err:
        print(f"INVALID {args.file}: {err}")
        return 1
    span = f"seq {digest['first_seq']}..{digest['last_seq']}" if digest["event_count"] else "no events"
    print(f"OK {args.file}: tenant {digest['tenant_id']}, {digest['event_count']} events, {span}, "
          f"last hash {digest['last_hash']}, signature valid")
    return 0


if __name__ == "__main__":
    sys.exit(main())
