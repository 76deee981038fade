"""Verify a visitor's access bundle offline, with nothing but the bundle and the public key.

    python -m chalicelib.audit.verify_access BUNDLE.zip --public-key KEY.pem [--tenant TENANT_ID]
        [--visitor VISITOR_ID]

The bundle is a zip whose manifest.json is a signed digest of kind "access_manifest" naming every
other file with its SHA-256 and size. Exits 0 with a summary when the signature holds, every file
listed is there with that hash and size and no other file is; 1 naming the first failure; 2 on
unusable arguments. Needs only the standard library and `cryptography`; docs/audit.md has the format.
"""
from __future__ import annotations

import argparse
import hashlib
import json
import sys
import zipfile
from collections import Counter
from typing import Any

from cryptography.hazmat.primitives.asymmetric import ec

from .chain import ALGORITHM
from .verify import Invalid, Unusable, _signed_digest, _unique_keys, load_public_key

ACCESS_MANIFEST = "access_manifest"  # the digest's kind (chain.py DIGEST_FIELDS)
ACCESS_FORMAT = "switchboard.access.v1"
MANIFEST_NAME = "manifest.json"


def verify_bundle(path: str, public_key: ec.EllipticCurvePublicKey, *, tenant: str | None = None,
                  visitor: str | None = None) -> dict[str, Any]:
    """The signed manifest of a bundle that verifies; Invalid naming the first failure otherwise."""
    try:
        bundle = zipfile.ZipFile(path)
    except OSError as err:
        raise Unusable(f"cannot read {path}: {err.strerror}") from None
    except zipfile.BadZipFile as err:
        raise Invalid(f"not a zip file ({err}): the bundle is truncated or damaged") from None
    with bundle:
        names = [info.filename for info in bundle.infolist()]
        repeated = sorted(name for name, count in Counter(names).items() if count > 1)
        if repeated:  # one unzip tool shows the first copy, another the last
            raise Invalid(f"the bundle holds {repeated[0]} more than once")
        if MANIFEST_NAME not in names:
            raise Invalid(f"no {MANIFEST_NAME}: the bundle's signed list of files was removed")
        try:
            signed = json.loads(bundle.read(MANIFEST_NAME), object_pairs_hook=_unique_keys)
        except ValueError as err:
            raise Invalid(f"{MANIFEST_NAME} is not JSON ({err})") from None
        digest = _signed_digest(signed, public_key, ACCESS_MANIFEST, MANIFEST_NAME)
        if digest["format"] != ACCESS_FORMAT:
            raise Invalid(f"the manifest is of format {digest['format']!r}, not {ACCESS_FORMAT}")
        listed = _listed_files(digest["files"])
        for name in names:
            if name != MANIFEST_NAME and name not in listed:
                raise Invalid(f"{name} is in the bundle but not in the signed manifest: it was added")
        for name, (sha256, size) in listed.items():
            if name not in names:
                raise Invalid(f"{name} is in the signed manifest but not in the bundle: it was removed")
            content = _read(bundle, name)
            if len(content) != size:
                raise Invalid(f"{name} does not match the signed manifest: {len(content)} bytes, {size} signed; "
                              "it was changed")
            if hashlib.sha256(content).hexdigest() != sha256:
                raise Invalid(f"{name} does not match the signed manifest: its SHA-256 differs; it was changed")
    if tenant is not None and digest["tenant_id"] != tenant:
        raise Invalid(f"the bundle is signed for tenant {digest['tenant_id']}, not {tenant}")
    if visitor is not None and digest["visitor_id"] != visitor:
        raise Invalid(f"the bundle is signed for visitor {digest['visitor_id']}, not {visitor}")
    signed_key: str = signed.get("key_id", "")
    return {**digest, "key_id": signed_key}


def _listed_files(files: Any) -> dict[str, tuple[str, int]]:
    if not isinstance(files, list):
        raise Invalid("the manifest's files is not a list")
    listed: dict[str, tuple[str, int]] = {}
    for entry in files:
        if not (isinstance(entry, dict) and sorted(entry) == ["name", "sha256", "size"]
                and isinstance(entry["name"], str) and isinstance(entry["sha256"], str)
                and isinstance(entry["size"], int) and not isinstance(entry["size"], bool)):
            raise Invalid(f"the manifest lists a file that is not {{name, sha256, size}}: {entry!r}")
        if entry["name"] in listed or entry["name"] == MANIFEST_NAME:
            raise Invalid(f"the manifest lists {entry['name']} twice")
        listed[entry["name"]] = (entry["sha256"], entry["size"])
    return listed


def _read(bundle: zipfile.ZipFile, name: str) -> bytes:
    try:
        return bundle.read(name)
    except (zipfile.BadZipFile, OSError, EOFError) as err:  # a stored CRC that fails, a cut-off member
        raise Invalid(f"{name} cannot be read from the zip ({err}): it was changed or damaged") from None


def summary(path: str, manifest: dict[str, Any], key_path: str) -> list[str]:
    files = manifest["files"]
    total = sum(entry["size"] for entry in files)
    lines = [f"OK {path}: the signature, and every file's hash and size, hold; no file is missing or extra",
             f"  tenant        {manifest['tenant_id']}",
             f"  visitor       {manifest['visitor_id']}" + (f" (erased {manifest['erased_at']})"
                                                             if manifest["erased_at"] else ""),
             f"  export        {manifest['export_id']}, requested by {manifest['requested_by'].get('kind')} "
             f"{manifest['requested_by'].get('id')}",
             f"  files         {len(files)} and the manifest, {total} bytes (conversations: "
             f"{sum(entry['name'].startswith('conversations/') for entry in files)})",
             f"  generated at  {manifest['generated_at']}",
             f"  signed by     key {manifest['key_id']} ({ALGORITHM}), verified with {key_path}"]
    return lines


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m chalicelib.audit.verify_access",
                                     description=__doc__.splitlines()[0])
    parser.add_argument("bundle", help="the access bundle (.zip)")
    parser.add_argument("--public-key", required=True, help="PEM from GET /v1/audit/public-keys")
    parser.add_argument("--tenant", help="fail unless the bundle is signed for this tenant id")
    parser.add_argument("--visitor", help="fail unless the bundle is signed for this visitor id")
    args = parser.parse_args(argv)
    try:
        key = load_public_key(args.public_key)
        manifest = verify_bundle(args.bundle, key, tenant=args.tenant, visitor=args.visitor)
    except Unusable as err:
        print(f"cannot verify: {err}", file=sys.stderr)
        return 2
    except Invalid as err:
        print(f"INVALID {args.bundle}: {err}")
        return 1
    print("\n".join(summary(args.bundle, manifest, args.public_key)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
