"""The audit trail through the local stack: an export requested over REST is written by the queue
consumer, downloaded from its time-limited link and verified offline; audit-verify runs on demand."""
from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests

from devstack.harness import ROOT, RunningStack

pytestmark = pytest.mark.e2e


def test_export_download_and_offline_verification(stack: RunningStack, tenant: dict, tmp_path: Path):
    auth = {"Authorization": f"Bearer {tenant['token']}"}
    # A signed checkpoint first, saved as a compliance officer saves it, to check the export against.
    assert requests.post(stack.base + "/dev/jobs/audit-verify", timeout=60).json()["summary"]["broken"] == []
    digests = requests.get(stack.base + "/v1/audit/digests", headers=auth, timeout=10)
    assert digests.status_code == 200 and digests.json()["items"][0]["digest"]["kind"] == "checkpoint"
    (tmp_path / "checkpoints.json").write_text(digests.text)
    accepted = requests.post(stack.base + "/v1/audit/exports", headers=auth, timeout=10,
                             json={"from": "2020-01-01T00:00:00Z", "to": "2100-01-01T00:00:00Z"})
    assert accepted.status_code == 202
    export_id = accepted.json()["export_id"]
    deadline = time.monotonic() + 30
    while (status := requests.get(f"{stack.base}/v1/audit/exports/{export_id}", headers=auth,
                                  timeout=10).json())["status"] == "pending":
        assert time.monotonic() < deadline, "the export was never written"
        time.sleep(0.3)
    assert status["status"] == "ready" and status["event_count"] >= 3
    exported = tmp_path / "export.jsonl.gz"
    exported.write_bytes(requests.get(status["url"], timeout=10).content)
    key = requests.get(stack.base + "/v1/audit/public-keys", headers=auth, timeout=10).json()["keys"][0]
    (tmp_path / "key.pem").write_text(key["public_key_pem"])
    verified = subprocess.run([sys.executable, "-m", "chalicelib.audit.verify", str(exported), "--public-key",
                               str(tmp_path / "key.pem"), "--tenant", tenant["tenant_id"],
                               "--checkpoint", str(tmp_path / "checkpoints.json")],
                              cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert verified.returncode == 0 and verified.stdout.startswith("OK"), verified.stdout + verified.stderr
    assert f"  tenant        {tenant['tenant_id']}\n" in verified.stdout
    assert "  checkpoints   matches signed checkpoint 1 (seq 1.." in verified.stdout


def test_audit_verify_runs_through_dev_jobs(stack: RunningStack, tenant: dict):
    ran = requests.post(stack.base + "/dev/jobs/audit-verify", timeout=60).json()["summary"]
    assert ran["tenants"] >= 2 and ran["broken"] == [] and ran["digests_signed"] >= 1
    digests = requests.get(stack.base + "/v1/audit/digests", timeout=10,
                           headers={"Authorization": f"Bearer {tenant['token']}"}).json()["items"]
    assert digests and digests[0]["algorithm"] == "ECDSA_P256_SHA256"
