"""Retention attestations (docs/audit.md): the retention job signs what it shredded and the oldest
surviving transcript, per tenant at least once a UTC day and on every run that shredded something; the
offline verifier lists them per day and flags days without one. Through the real handlers on moto."""
from __future__ import annotations

import hashlib
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from chalicelib.audit.signing import audit_signer
from chalicelib.clock import iso
from chalicelib.storage.conversations import ConversationModel
from devstack.harness import Api, run_job
from tests.functional.audit_exports import export, offline_verify, rewrite_and_export, write_public_key
from tests.functional.test_erasure_receipts import EVERYTHING, ck
from tests.functional.test_transcripts import chat
from tests.helpers import audit_events

pytestmark = pytest.mark.frozen_clock  # the UTC day changes only when the test moves the clock


def attestations(t: str) -> list[dict]:
    events = audit_events(t, "retention.attested")
    for event in events:
        assert event["actor"] == {"kind": "system", "id": "retention"} and event["target"] == t
        assert audit_signer().verifies(event["details"]["digest"], event["details"]["signature"])
    return [event["details"]["digest"] for event in events]


def sha256_lines(*values: str) -> str:
    return hashlib.sha256("\n".join(values).encode()).hexdigest()


def test_retention_attests_daily_what_it_shredded_and_the_oldest_survivor(api: Api, tenant: dict, clock,
                                                                         tmp_path: Path):
    t = tenant["tenant_id"]
    assert api.call("PUT", "/v1/settings", {"retention_days": 3}, token=tenant["admin_token"]).status_code == 200
    now = clock.utcnow()
    clock.advance((datetime.combine(now.date() + timedelta(days=1), now.time().min, now.tzinfo) - now)
                  .total_seconds() + 3600)  # day 1, 01:00 UTC: the tenant was created on day 0
    tenant["admin_token"] = api.login(t, "admin@acme.com")  # a new day, new sessions
    vera, _, first = chat(api, tenant, visitor_text="oldest")
    vera.send(action="conversation.close", conversation_id=first)
    clock.advance(86400)  # day 2
    vera.send(action="message.send", client_msg_id="v2", text="newer")
    second = vera.of_type("ack")[-1]["conversation_id"]
    vera.send(action="conversation.close", conversation_id=second)
    tenant["admin_token"] = api.login(t, "admin@acme.com")
    chat(api, tenant, visitor_text="still open", agent_email="kim@acme.com")  # open: not retention's yet

    # Nothing has expired: the day is attested all the same, with the oldest closed transcript.
    assert run_job("retention") == {"tenants": 1, "shredded": 0, "attested": 1, "pass_finished": True}
    [quiet] = attestations(t)
    cutoff = clock.utcnow() - timedelta(days=3)
    assert quiet == {"kind": "retention_attestation", "tenant_id": t, "generated_at": iso(clock.utcnow()),
                     "retention_days": 3, "cutoff": iso(cutoff), "shredded": 0,
                     "conversations_sha256": sha256_lines(), "keys_destroyed": 0, "keys_sha256": sha256_lines(),
                     "oldest_surviving_closed_at": iso(ConversationModel.get(t, first).closed_at), "complete": True}
    # Later runs that day shred nothing and sign nothing: one attestation a day is enough.
    assert run_job("retention")["attested"] == 0 and len(attestations(t)) == 1

    clock.advance(2 * 86400 + 12 * 3600)  # day 4, 13:00: the first conversation is 3.5 days closed
    assert run_job("retention") == {"tenants": 1, "shredded": 1, "attested": 1, "pass_finished": True}
    shredding = attestations(t)[-1]
    assert (shredding["shredded"], shredding["keys_destroyed"]) == (1, 1)
    assert shredding["conversations_sha256"] == sha256_lines(first)
    assert shredding["keys_sha256"] == sha256_lines(ck(t, first, 1))
    assert shredding["oldest_surviving_closed_at"] == iso(ConversationModel.get(t, second).closed_at)
    assert shredding["cutoff"] == iso(clock.utcnow() - timedelta(days=3)) and shredding["complete"]

    assert run_job("audit-verify")["broken"] == []  # the nightly check verifies each attestation's signature

    # The auditor's view: attestations per day; days 1 and 3 had none (no run covered the tenant).
    tenant["admin_token"] = api.login(t, "admin@acme.com")
    key = write_public_key(api, tenant, tmp_path)
    _, path = export(api, tenant, tmp_path, *EVERYTHING, "export")
    checked = offline_verify(path, "--public-key", key, "--receipts")
    assert checked.returncode == 0, checked.stdout + checked.stderr
    day = [(clock.utcnow() - timedelta(days=n)).date().isoformat() for n in range(5)][::-1]  # day 0 .. day 4
    assert f"  retention     2 signed attestation(s) on 2 day(s), {day[2]}..{day[4]}, 1 conversation(s) shredded\n" \
        in checked.stdout
    assert (f"    seq {audit_events(t, 'retention.attested')[0]['seq']} retention {quiet['generated_at']}: 3 days, "
            f"cut-off {quiet['cutoff']}, shredded 0 (0 key(s)), oldest surviving closed "
            f"{quiet['oldest_surviving_closed_at']}\n") in checked.stdout
    flags = [line.strip() for line in checked.stdout.splitlines() if line.strip().startswith("FLAG")]
    assert flags == [f"FLAG no complete retention attestation on {day[1]}",
                     f"FLAG no complete retention attestation on {day[3]}"]
    assert offline_verify(path, "--public-key", key, "--strict").returncode == 1

    # An attestation edited in storage (an older survivor hidden) and rehashed into the chain is refused.
    seq = audit_events(t, "retention.attested")[-1]["seq"]
    doctored = rewrite_and_export(
        api, tenant, tmp_path, seq, lambda details: details["digest"].update(oldest_surviving_closed_at=None),
        "doctored")
    refused = offline_verify(doctored, "--public-key", key)
    assert refused.returncode == 1 and refused.stdout.startswith(
        f"INVALID {doctored}: the signature of the retention_attestation at seq {seq} does not verify"), refused.stdout
