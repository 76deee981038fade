"""The right of access through the local stack: a visitor chats, a compliance officer requests their
bundle over REST, the queue consumer builds it, our route serves it, it verifies offline; the S3 object
(moto server) holds only the sealed bundle."""
from __future__ import annotations

import hashlib
import io
import json
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import boto3
import pytest
import requests
from websockets.sync.client import connect

from devstack.harness import ROOT, RunningStack

pytestmark = pytest.mark.e2e
SECRET = "the alarm code is 2468"


def test_a_visitors_bundle_is_built_served_and_verified(stack: RunningStack, tenant: dict, tmp_path: Path):
    auth = {"Authorization": f"Bearer {tenant['token']}"}
    session = requests.post(f"{stack.base}/v1/widget/{tenant['widget_key']}/sessions", json={}, timeout=30).json()
    with connect(f"{session['ws_url']}/?token={session['visitor_token']}", open_timeout=10) as socket:
        socket.send(json.dumps({"action": "message.send", "client_msg_id": "m1", "text": SECRET}))
        while (frame := json.loads(socket.recv(timeout=10)))["type"] != "ack":
            pass
    visitor_id, conversation_id = session["visitor_id"], frame["conversation_id"]

    accepted = requests.post(f"{stack.base}/v1/visitors/{visitor_id}/access-exports", headers=auth, timeout=10)
    assert accepted.status_code == 202, accepted.text
    status_url = f"{stack.base}/v1/visitors/{visitor_id}/access-exports/{accepted.json()['export_id']}"
    deadline = time.monotonic() + 30
    while (status := requests.get(status_url, headers=auth, timeout=10).json())["status"] == "pending":
        assert time.monotonic() < deadline, "the bundle was never built"
        time.sleep(0.3)
    assert status["status"] == "ready" and status["url"] == status_url + "/bundle", status
    served = requests.get(status["url"], headers={**auth, "Accept": "application/zip"}, timeout=30)
    assert served.status_code == 200 and served.headers["Content-Type"] == "application/zip"
    assert hashlib.sha256(served.content).hexdigest() == status["sha256"]
    bundle = zipfile.ZipFile(io.BytesIO(served.content))
    messages = json.loads(bundle.read(f"conversations/{conversation_id}.json"))["messages"]
    assert messages[0]["text"] == SECRET

    (tmp_path / "access.zip").write_bytes(served.content)
    key = requests.get(stack.base + "/v1/audit/public-keys", headers=auth, timeout=10).json()["keys"][0]
    (tmp_path / "audit.pem").write_text(key["public_key_pem"])
    verified = subprocess.run([sys.executable, "-m", "chalicelib.audit.verify_access", str(tmp_path / "access.zip"),
                               "--public-key", str(tmp_path / "audit.pem"), "--tenant", tenant["tenant_id"],
                               "--visitor", visitor_id], cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert verified.returncode == 0 and verified.stdout.startswith("OK"), verified.stdout + verified.stderr

    s3 = boto3.client("s3", endpoint_url=stack.aws, region_name="us-east-1", aws_access_key_id="testing",
                      aws_secret_access_key="testing")
    [bucket] = [b["Name"] for b in s3.list_buckets()["Buckets"] if "-exports-" in b["Name"]]
    [stored] = s3.list_objects_v2(Bucket=bucket, Prefix=f"access/{tenant['tenant_id']}/")["Contents"]
    sealed = s3.get_object(Bucket=bucket, Key=stored["Key"])["Body"].read()
    assert SECRET.encode() not in sealed and not zipfile.is_zipfile(io.BytesIO(sealed))
    actions = [e["action"] for e in requests.get(stack.base + "/v1/audit/events", headers=auth, timeout=10)
               .json()["items"]]
    assert "visitor.access_export_requested" in actions and "visitor.access_export_downloaded" in actions
