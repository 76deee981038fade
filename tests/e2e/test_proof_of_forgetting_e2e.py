"""Proof of forgetting on the local stack, as a compliance officer and an auditor do it: erase a
visitor, save the signed receipt and the public key, export the trail, then run the offline verifier
and the read-only key-store check as separate processes (docs/audit.md, Proof of forgetting)."""
from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from contextlib import ExitStack
from pathlib import Path

import pytest
import requests
from websockets.sync.client import connect

from devstack.harness import ROOT, RunningStack
from tests.e2e.test_chat_e2e import frames_until

pytestmark = pytest.mark.e2e


def auditor(*args: str) -> subprocess.CompletedProcess:
    """A fresh interpreter, with credentials of its own (moto takes any), nothing of the stack's."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SWITCHBOARD_", "AWS_"))}
    env.update(AWS_ACCESS_KEY_ID="auditor", AWS_SECRET_ACCESS_KEY="auditor", AWS_DEFAULT_REGION="us-east-1")
    return subprocess.run([sys.executable, "-m", *args], cwd=ROOT, env=env, capture_output=True, text=True,
                          timeout=60)


def test_erase_export_and_prove_as_an_auditor(stack: RunningStack, tenant: dict, tmp_path: Path):
    auth = {"Authorization": f"Bearer {tenant['token']}"}
    visitor_id = tenant["visitor"]["visitor_id"]
    with ExitStack() as sockets:
        vera = sockets.enter_context(connect(f"{stack.ws}/?token={tenant['visitor']['visitor_token']}",
                                             open_timeout=10))
        vera.send(json.dumps({"action": "message.send", "client_msg_id": "v1", "text": "E2E-SECRET please forget me"}))
        assert frames_until(vera, "ack")[-1]["conversation_id"]
    assert requests.get(f"{stack.base}/v1/visitors/{visitor_id}/erasure-receipt", headers=auth,
                        timeout=10).status_code == 404
    erased = requests.delete(f"{stack.base}/v1/visitors/{visitor_id}", headers=auth, timeout=10)
    assert erased.status_code == 202 and erased.json()["conversations_shredded"] == 1
    assert requests.post(stack.base + "/dev/jobs/retention", timeout=30).json()["summary"]["attested"] >= 1

    # What the compliance officer hands over: the receipt, the public key, the export.
    receipt = requests.get(f"{stack.base}/v1/visitors/{visitor_id}/erasure-receipt", headers=auth, timeout=10)
    assert receipt.status_code == 200 and receipt.json()["digest"]["kind"] == "erasure_receipt"
    (tmp_path / "receipt.json").write_text(receipt.text)
    key = requests.get(stack.base + "/v1/audit/public-keys", headers=auth, timeout=10).json()["keys"][0]
    (tmp_path / "audit.pem").write_text(key["public_key_pem"])
    accepted = requests.post(stack.base + "/v1/audit/exports", headers=auth, timeout=10,
                             json={"from": "2020-01-01T00:00:00Z", "to": "2100-01-01T00:00:00Z"})
    deadline = time.monotonic() + 30
    while (status := requests.get(f"{stack.base}/v1/audit/exports/{accepted.json()['export_id']}", headers=auth,
                                  timeout=10).json())["status"] == "pending":
        assert time.monotonic() < deadline, "the export was never written"
        time.sleep(0.3)
    (tmp_path / "export.jsonl.gz").write_bytes(requests.get(status["url"], timeout=10).content)

    verified = auditor("chalicelib.audit.verify", str(tmp_path / "export.jsonl.gz"), "--public-key",
                       str(tmp_path / "audit.pem"), "--tenant", tenant["tenant_id"], "--receipts")
    print(verified.stdout)
    assert verified.returncode == 0 and verified.stdout.startswith("OK"), verified.stdout + verified.stderr
    assert "  erasures      1 signed receipt(s), 2 key id(s) named destroyed\n" in verified.stdout
    assert f" erasure of visitor {visitor_id} at " in verified.stdout
    assert "  retention     1 signed attestation(s) on 1 day(s)" in verified.stdout

    proven = auditor("chalicelib.transcripts.erasure_proof", "--receipt", str(tmp_path / "receipt.json"),
                     "--public-key", str(tmp_path / "audit.pem"), "--tables-prefix", "switchboard-dev",
                     "--endpoint-url", stack.aws)
    print(proven.stdout)
    assert proven.returncode == 0 and proven.stdout.startswith("PROVEN"), proven.stdout + proven.stderr
    assert "  ciphertexts    1 message(s) and 0 survey comment(s) left" in proven.stdout
