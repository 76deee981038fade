"""A doctored audit export never verifies.

The corpus is made in the test from real exports (REST request, queue consumer, S3 download, all on
moto) and real signed checkpoints (the audit-verify job), so it cannot drift from what the product
writes. Every variant must be refused with exit 1 and a message naming what is wrong.
"""
from __future__ import annotations

import base64
import contextlib
import gzip
import io
import json
from collections.abc import Callable
from copy import deepcopy
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import boto3
import pytest
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec

from chalicelib.audit import verify
from chalicelib.audit.chain import canonical, event_hash
from chalicelib.audit.trail import record_event
from chalicelib.clock import iso
from devstack.harness import Api, run_job
from tests.functional.audit_exports import export, offline_verify, rewrite_and_export, write_public_key

SYSTEM = {"kind": "system", "id": "test"}
EVERYTHING = ("2000-01-01T00:00:00Z", "2100-01-01T00:00:00Z")


@dataclass
class Material:
    """What an attacker has to start from: this tenant's real export and checkpoints, another tenant's."""
    tmp: Path
    tenant_id: str
    key: Path
    base: Path  # an export of a middle range: its first event links to one before it
    lines: list[dict[str, Any]]  # base as parsed: header, events, trailer
    checkpoint: dict[str, Any]  # an item of GET /v1/audit/digests whose seqs lie inside base
    digests_page: Path  # the whole answer of GET /v1/audit/digests, saved
    later_checkpoint: dict[str, Any]  # one signed after base was written, pinning none of its seqs
    other_lines: list[dict[str, Any]]  # another tenant's whole export
    other_checkpoint: dict[str, Any]
    rewritten: Path  # base's range exported again after the stored chain was rewritten and rehashed

    def events(self) -> list[dict[str, Any]]:
        return self.lines[1:-1]


def parse(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in gzip.decompress(path.read_bytes()).splitlines()]


def pack(lines: list[Any]) -> bytes:
    return gzip.compress(b"".join((line if isinstance(line, bytes) else json.dumps(line).encode()) + b"\n"
                                  for line in lines))


def rehash(lines: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Recompute every event's links and hashes from the first event's prev_hash, as a forger would."""
    prev = lines[1]["prev_hash"]
    for event in lines[1:-1]:
        event["prev_hash"] = prev
        event["hash"] = prev = event_hash(event)
    return lines


def save_json(path: Path, value: Any) -> Path:
    path.write_text(json.dumps(value))
    return path


def build(api: Api, tenant: dict, clock: Any, tmp: Path) -> Material:
    t = tenant["tenant_id"]
    other = api.signup(name="Other", email="boss@other.com")
    for n in range(6):
        record_event(t, SYSTEM, "test.early", f"e{n}", {"n": n})
    assert run_job("audit-verify")["digests_signed"] == 2  # checkpoint 1 of each tenant
    clock.advance(3600)
    middle = iso(clock.utcnow())
    clock.advance(3600)
    for n in range(8):
        record_event(t, SYSTEM, "test.late", f"l{n}", {"n": n})
    assert run_job("audit-verify")["digests_signed"] == 1  # checkpoint 2: the late events
    tenant = {**tenant, "admin_token": api.login(t, "admin@acme.com")}
    _, base = export(api, tenant, tmp, middle, EVERYTHING[1], "base")
    lines = parse(base)
    [checkpoint] = [item
                    for item in api.call("GET", "/v1/audit/digests", token=tenant["admin_token"]).json_body["items"]
                    if item["seq"] == 2]
    assert checkpoint["digest"]["first_seq"] == lines[1]["seq"] > 1  # the checkpoint lies inside base

    for n in range(2):  # a checkpoint that starts after everything base holds
        record_event(t, SYSTEM, "test.after", f"a{n}")
        run_job("audit-verify")
    page = api.call("GET", "/v1/audit/digests", token=tenant["admin_token"]).json_body
    [later] = [item for item in page["items"] if item["digest"]["first_seq"] - 1 > lines[-1]["digest"]["last_seq"]][:1]
    other = {**other, "admin_token": api.login(other["tenant_id"], "boss@other.com")}  # after the clock moved
    _, other_export = export(api, other, tmp, *EVERYTHING, "other")
    [other_checkpoint] = api.call("GET", "/v1/audit/digests", token=other["admin_token"]).json_body["items"]
    material = Material(tmp, t, write_public_key(api, tenant, tmp), base, lines, checkpoint,
                        save_json(tmp / "digests.json", page), later, parse(other_export), other_checkpoint,
                        rewritten=tmp / "unset")
    material.rewritten = rewrite_stored_chain_and_export(api, tenant, tmp, middle, from_seq=lines[3]["seq"])
    return material


def rewrite_stored_chain_and_export(api: Api, tenant: dict, tmp: Path, middle: str, from_seq: int) -> Path:
    """The stored chain edited at from_seq and rehashed to its head, then exported by the server."""
    return rewrite_and_export(api, tenant, tmp, from_seq, lambda details: details.update(n=999), "rewritten",
                              range_from=middle)


def resigned(m: Material, lines: Lines) -> Lines:
    """A forged file made whole: digest fitted to the events and signed with the forger's own key."""
    digest = lines[-1]["digest"]
    digest.update(first_prev_hash=lines[1]["prev_hash"], last_hash=lines[-2]["hash"], event_count=len(lines) - 2)
    signature = ec.generate_private_key(ec.SECP256R1()).sign(canonical(digest), ec.ECDSA(hashes.SHA256()))
    lines[-1]["signature"] = base64.b64encode(signature).decode()
    return lines


def checkpoint_as_trailer(m: Material) -> bytes:
    """The events a signed checkpoint covers, closed by that checkpoint's genuine signature."""
    d = m.checkpoint["digest"]
    events = [event for event in m.events() if d["first_seq"] <= event["seq"] <= d["last_seq"]]
    trailer = {key: m.checkpoint[key] for key in ("digest", "algorithm", "key_id", "signature")}
    return pack([m.lines[0], *events, trailer])


def other_key(m: Material) -> Path:
    pem = ec.generate_private_key(ec.SECP256R1()).public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    path = m.tmp / "other-key.pem"
    path.write_bytes(pem)
    return path


Lines = list[dict[str, Any]]


@dataclass(frozen=True)
class Variant:
    name: str
    doctor: Callable[[Material, Lines], Lines | bytes | None]  # from a copy of base's lines; None: base itself
    refusal: Callable[[Material], str]  # what the message must say
    args: Callable[[Material], list[str]] = lambda m: []

    def write(self, m: Material, path: Path) -> Path:
        doctored = self.doctor(m, deepcopy(m.lines))
        path.write_bytes(m.base.read_bytes() if doctored is None else doctored if isinstance(doctored, bytes)
                         else pack(doctored))
        return path


def edit(path: list, value: Any) -> Callable[[Material, Lines], Lines]:
    """lines[i][key]... set to value, everything else as it was."""
    def doctor(m: Material, lines: Lines) -> Lines:
        target = lines
        for step in path[:-1]:
            target = target[step]
        target[path[-1]] = value
        return lines
    return doctor


def seq_at(index: int) -> Callable[[Material], int]:
    return lambda m: m.lines[index]["seq"]


def insert_line(index: int, line: Any) -> Callable[[Material, Lines], bytes]:
    return lambda m, lines: pack([*lines[:index], line(lines) if callable(line) else line, *lines[index:]])


def fixed(text: str) -> Callable[[Material], str]:
    return lambda m: text


def swapped(m: Material, lines: Lines) -> Lines:
    lines[3], lines[4] = lines[4], lines[3]
    return lines


def checkpoint_file(pick: Callable[[Material], Any]) -> Callable[[Material], list[str]]:
    return lambda m: ["--checkpoint", str(save_json(m.tmp / "given-checkpoint.json", pick(m)))]


def doctored_checkpoint(m: Material) -> dict[str, Any]:
    forged = deepcopy(m.checkpoint)
    forged["digest"]["last_hash"] = "ab" * 32
    return forged


def export_trailer_as_checkpoint(m: Material) -> dict[str, Any]:
    return {"seq": 99, **m.lines[-1], "digest_hash": "", "key_id": m.lines[-1]["key_id"]}


CORPUS = [
    # Events
    Variant("an event edited", edit([3, "details"], {"n": 999}),
            lambda m: f"chain broken at seq {m.lines[3]['seq']}: hash does not match the event's content"),
    Variant("an event edited, the chain rehashed after it",
            lambda m, lines: rehash(edit([3, "details"], {"n": 999})(m, lines)),
            fixed("the events do not match the signed digest: last_hash")),
    Variant("an event dropped", lambda m, lines: lines[:3] + lines[4:],
            lambda m: f"chain broken at seq {m.lines[3]['seq']}: missing"),
    Variant("the first event dropped", lambda m, lines: lines[:1] + lines[2:],
            fixed("the events do not match the signed digest: first_seq")),
    Variant("the last event dropped", lambda m, lines: lines[:-2] + lines[-1:],
            fixed("the events do not match the signed digest: last_seq")),
    Variant("two events swapped", swapped,
            lambda m: f"chain broken at seq {m.lines[3]['seq']}: missing (the next event is seq {m.lines[4]['seq']})"),
    Variant("two events swapped, the chain rehashed", lambda m, lines: rehash(swapped(m, lines)),
            lambda m: f"chain broken at seq {m.lines[3]['seq']}"),
    # The header (unsigned): it may only repeat what the digest signs
    Variant("header re-ranged: from", edit([0, "from"], EVERYTHING[0]),
            fixed("the unsigned header disagrees with the signed digest: from is '2000-01-01T00:00:00Z'")),
    Variant("header re-ranged: to", edit([0, "to"], "2030-01-01T00:00:00Z"),
            fixed("the unsigned header disagrees with the signed digest: to is '2030-01-01T00:00:00Z'")),
    Variant("header names another tenant", edit([0, "tenant_id"], "t_someone_else"),
            fixed("the unsigned header disagrees with the signed digest: tenant_id")),
    Variant("header generated_at changed", edit([0, "generated_at"], "2001-01-01T00:00:00Z"),
            fixed("the unsigned header disagrees with the signed digest: generated_at")),
    Variant("header names another key", edit([0, "key_id"], "another-key"),
            fixed("the header names key 'another-key'")),
    # Where the range starts
    Variant("first prev_hash swapped", edit([1, "prev_hash"], "ab" * 32),
            lambda m: f"chain broken at seq {m.lines[1]['seq']}: hash does not match"),
    Variant("first prev_hash swapped, the chain rehashed",
            lambda m, lines: rehash(edit([1, "prev_hash"], "ab" * 32)(m, lines)),
            fixed("the events do not match the signed digest: first_prev_hash")),
    # Truncation
    Variant("gzip stream cut in the middle", lambda m, lines: m.base.read_bytes()[:len(m.base.read_bytes()) // 2],
            fixed("not a whole gzip stream")),
    Variant("trailer missing", lambda m, lines: lines[:-1], fixed("no trailer: the file is truncated")),
    Variant("cut after a few events", lambda m, lines: lines[:4], fixed("no trailer: the file is truncated")),
    Variant("empty file", lambda m, lines: gzip.compress(b""), fixed("the file is empty")),
    Variant("not gzip at all", lambda m, lines: gzip.decompress(m.base.read_bytes()), fixed("not a whole gzip stream")),
    # Keys and tenants
    Variant("edited, rehashed and re-signed with another key",
            lambda m, lines: resigned(m, rehash(edit([3, "details"], {})(m, lines))),
            fixed("the signature of the trailer does not verify with this public key")),
    Variant("verified with another tenant's (or anyone's) key", lambda m, lines: None,
            fixed("the signature of the trailer does not verify with this public key"),
            lambda m: ["--public-key", str(other_key(m))]),
    Variant("another tenant's export relabelled as this tenant's",
            lambda m, lines: edit([0, "tenant_id"], m.tenant_id)(m, deepcopy(m.other_lines)),
            fixed("the unsigned header disagrees with the signed digest: tenant_id")),
    Variant("another tenant's export, this tenant expected", lambda m, lines: deepcopy(m.other_lines),
            lambda m: f"not {m.tenant_id}", lambda m: ["--tenant", m.tenant_id]),
    # The signed digest
    Variant("a checkpoint's signed digest as the trailer", lambda m, lines: checkpoint_as_trailer(m),
            fixed("the trailer is signed as 'checkpoint', not as 'export'")),
    *(Variant(f"signed digest: {name} {'added' if name == 'approved_by' else 'changed'}",
              edit([-1, "digest", name], value),
              fixed("the signature of the trailer does not verify with this public key"))
      for name, value in (("from", EVERYTHING[0]), ("to", "2030-01-01T00:00:00Z"), ("tenant_id", "t_someone_else"),
                          ("event_count", 1), ("first_prev_hash", "ab" * 32), ("last_hash", "ab" * 32),
                          ("kind", "checkpoint"), ("approved_by", "the auditor"))),
    Variant("trailer names another algorithm", edit([-1, "algorithm"], "HMAC_SHA256"),
            fixed("the trailer names algorithm 'HMAC_SHA256'")),
    Variant("signature not base64", edit([-1, "signature"], "not a signature!"),
            fixed("the signature of the trailer does not verify")),
    # Extra unsigned lines
    Variant("a note after the header", insert_line(1, {"note": "approved by the auditor"}),
            fixed("line 2 is neither an event nor the trailer")),
    Variant("a second header", insert_line(1, lambda lines: lines[0]),
            fixed("line 2 is neither an event nor the trailer")),
    Variant("a line after the trailer", lambda m, lines: [*lines, {"note": "x"}], fixed("follows the trailer")),
    Variant("a second trailer", lambda m, lines: [*lines, lines[-1]], fixed("follows the trailer")),
    Variant("an extra field in the header", edit([0, "approved_by"], "the auditor"),
            fixed("line 1 is not a switchboard.audit.v1 header")),
    Variant("an extra field in an event", edit([3, "approved_by"], "the auditor"),
            fixed("line 4 is neither an event nor the trailer")),
    Variant("an extra field in the trailer", edit([-1, "approved_by"], "the auditor"),
            lambda m: f"line {len(m.lines)} is neither an event nor the trailer"),
    Variant("a blank line", insert_line(2, b""), fixed("line 3 is not a JSON object")),
    Variant("a line that is not an object", insert_line(2, [1, 2]), fixed("line 3 is not a JSON object")),
    Variant("a key repeated in an event", lambda m, lines: pack(
        [*lines[:3], json.dumps(lines[3])[:-1].encode() + b', "action": "agent.created"}', *lines[4:]]),
            fixed("line 4 is not a JSON object (a repeated key")),
    # Against signed checkpoints
    Variant("the stored chain rewritten and re-exported, signed by the server",
            lambda m, lines: m.rewritten.read_bytes(), fixed("the chain was rewritten"),
            lambda m: ["--checkpoint", str(m.digests_page)]),
    Variant("a doctored checkpoint", lambda m, lines: None,
            lambda m: f"the signature of checkpoint {m.checkpoint['seq']} in ", checkpoint_file(doctored_checkpoint)),
    Variant("an export's trailer given as a checkpoint", lambda m, lines: None,
            fixed("checkpoint 99 in "), checkpoint_file(export_trailer_as_checkpoint)),
    Variant("another tenant's checkpoint", lambda m, lines: None,
            lambda m: f"checkpoint 1 is tenant {m.other_checkpoint['digest']['tenant_id']}'s",
            checkpoint_file(lambda m: m.other_checkpoint)),
    Variant("a checkpoint that pins none of the file's seqs", lambda m, lines: None,
            fixed("no checkpoint given pins a seq of this file"), checkpoint_file(lambda m: m.later_checkpoint)),
]


def run_verifier(m: Material, path: Path, *args: str) -> tuple[int, str]:
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        code = verify.main([str(path), "--public-key", str(m.key), *args])
    return code, out.getvalue()


@pytest.fixture
def material(api: Api, tenant: dict, clock, tmp_path: Path) -> Material:
    return build(api, tenant, clock, tmp_path)


def test_the_real_files_verify_with_and_without_checkpoints(material: Material):
    m = material
    for args in ([], ["--tenant", m.tenant_id], ["--checkpoint", str(m.digests_page)],
                 ["--checkpoint", str(save_json(m.tmp / "one.json", m.checkpoint))]):
        code, out = run_verifier(m, m.base, *args)
        assert code == 0 and out.startswith(f"OK {m.base}:"), (args, out)
    code, out = run_verifier(m, m.base, "--checkpoint", str(m.digests_page))
    d = m.checkpoint["digest"]
    assert out.splitlines()[-1].startswith("  checkpoints   matches signed checkpoint ")
    assert f"{m.checkpoint['seq']} (seq {d['first_seq']}..{d['last_seq']})" in out.splitlines()[-1]
    # The rewritten chain holds and the server signed it: only a checkpoint signed before can tell.
    assert run_verifier(m, m.rewritten)[0] == 0


def test_every_doctored_file_is_refused_with_a_message_that_says_why(material: Material):
    m = material
    assert len(CORPUS) == 49
    wrong = []
    for n, variant in enumerate(CORPUS):
        path = variant.write(m, m.tmp / f"doctored-{n}.jsonl.gz")
        code, out = run_verifier(m, path, *variant.args(m))
        expected = f"INVALID {path}: "
        if code != 1 or not out.startswith(expected) or variant.refusal(m) not in out or out.count("\n") != 1:
            wrong.append(f"{variant.name}: exit {code}, {out!r} (expected {variant.refusal(m)!r})")
    assert not wrong, "\n".join(wrong)


def test_the_command_line_refuses_with_exit_1_and_unusable_arguments_with_2(material: Material):
    m = material
    forged = Variant("re-ranged", edit([0, "from"], EVERYTHING[0]), fixed("")).write(m, m.tmp / "forged.jsonl.gz")
    refused = offline_verify(forged, "--public-key", m.key)
    assert refused.returncode == 1 and refused.stdout.startswith(f"INVALID {forged}: the unsigned header"), refused
    for args in (["--public-key", m.tmp / "none.pem"], ["--public-key", m.base],
                 ["--public-key", m.key, "--checkpoint", m.tmp / "none.json"]):
        unusable = offline_verify(m.base, *args)
        assert unusable.returncode == 2 and unusable.stdout == "" and "cannot verify" in unusable.stderr, unusable


def test_a_checkpoint_digest_does_not_pass_for_a_checkpoint_in_storage_either(api: Api, tenant: dict, tmp_path: Path):
    """An export's signed digest put into the digests table: audit-verify refuses it as a checkpoint."""
    t = tenant["tenant_id"]
    _, path = export(api, tenant, tmp_path, *EVERYTHING, "all")
    trailer = parse(path)[-1]
    boto3.client("dynamodb").put_item(TableName="switchboard-test-audit-digests", Item={
        "tenant_id": {"S": t}, "seq": {"N": "1"}, "digest": {"S": json.dumps(trailer["digest"])},
        "digest_hash": {"S": "x"}, "algorithm": {"S": trailer["algorithm"]}, "key_id": {"S": trailer["key_id"]},
        "signature": {"S": trailer["signature"]}})
    [broken] = run_job("audit-verify")["broken"]
    assert broken["seq"] == trailer["digest"]["last_seq"] and "not a checkpoint's digest" in broken["reason"]
