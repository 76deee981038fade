"""The right of access in the console: "Export visitor data" requests the bundle, follows it, downloads
it with the token and shows its SHA-256 and the command that checks it; the file verifies offline."""
from __future__ import annotations

import hashlib
import json
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
import requests
from playwright.sync_api import expect
from websockets.sync.client import connect

from tests.browser.conftest import Shop, online_agent, screenshot

pytestmark = [pytest.mark.e2e, pytest.mark.browser]
ROOT = Path(__file__).resolve().parents[2]
SECRET = "my parcel code is 7731"


def visitor_writes(shop: Shop, text: str) -> None:
    session = requests.post(f"{shop.stack.base}/v1/widget/{shop.widget_key}/sessions", json={}, timeout=30).json()
    with connect(f"{session['ws_url']}/?token={session['visitor_token']}", open_timeout=10) as socket:
        socket.send(json.dumps({"action": "message.send", "client_msg_id": "m1", "text": text}))
        while json.loads(socket.recv(timeout=10))["type"] != "ack":
            pass


def checked(shop: Shop, page, tmp_path: Path, name: str) -> tuple[dict, bytes]:
    """The download the click started, saved; its SHA-256 as shown; the bundle's manifest."""
    with page.expect_download(timeout=60000) as started:
        page.click("#access-export")
    path = tmp_path / f"{name}.zip"
    started.value.save_as(path)
    content = path.read_bytes()
    shown = page.inner_text("#access-export-sha256")
    assert shown == hashlib.sha256(content).hexdigest()
    command = page.inner_text("#access-export-verify")
    assert command.startswith("python -m chalicelib.audit.verify_access access-")
    pem = shop.call("GET", "/v1/audit/public-keys").json()["keys"][0]["public_key_pem"]
    (tmp_path / "audit.pem").write_text(pem)
    result = subprocess.run([sys.executable, "-m", "chalicelib.audit.verify_access", str(path), "--public-key",
                             str(tmp_path / "audit.pem")], cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stdout + result.stderr
    return json.loads(zipfile.ZipFile(path).read("manifest.json"))["digest"], content


def test_admin_and_compliance_export_a_visitors_data_from_the_console(stack, contexts, tmp_path):
    shop = Shop(stack, "Kites")
    shop.add_agent("cleo@kites.com", "Cleo Compliance", role="compliance")
    admin = contexts(accept_downloads=True)
    online_agent(shop, admin, "admin@kites.com")
    visitor_writes(shop, SECRET)
    admin.click("#mine button.conversation")
    admin.wait_for_selector(f"#messages li.visitor >> text={SECRET}")
    manifest, bundle = checked(shop, admin, tmp_path, "admin")
    screenshot(admin, "console-access-export")
    conversation_id = shop.call("GET", "/v1/conversations").json()["items"][0]["conversation_id"]
    visitor_id = manifest["visitor_id"]
    transcript = json.loads(zipfile.ZipFile(tmp_path / "admin.zip").read(f"conversations/{conversation_id}.json"))
    assert [m["text"] for m in transcript["messages"]][:1] == [SECRET]

    # Compliance has no chat screens: the audit screen takes the visitor's id.
    compliance = contexts(accept_downloads=True)
    shop.sign_in(compliance, "cleo@kites.com")
    compliance.wait_for_selector("#audit-rows tr")
    compliance.fill("#access-visitor", visitor_id)
    again, _ = checked(shop, compliance, tmp_path, "compliance")
    assert again["visitor_id"] == visitor_id and again["export_id"] != manifest["export_id"]
    events = requests.get(f"{stack.base}/v1/audit/events", timeout=30,
                          headers={"Authorization": f"Bearer {shop.admin_token}"}).json()["items"]
    assert [e["action"] for e in events].count("visitor.access_export_downloaded") == 2
    assert bundle  # what the admin's browser saved is the zip itself


def test_compliance_erases_a_visitor_from_the_console_and_the_receipt_proves_it(stack, contexts, tmp_path):
    shop = Shop(stack, "Lamps")
    shop.add_agent("cora@lamps.com", "Cora Compliance", role="compliance")
    visitor_writes(shop, SECRET)
    visitor_id = shop.call("GET", "/v1/conversations").json()["items"][0]["visitor_id"]
    page = contexts(accept_downloads=True)
    shop.sign_in(page, "cora@lamps.com")
    page.wait_for_selector("#audit-rows tr")
    page.fill("#access-visitor", visitor_id)
    page.click("#erasure-receipt")  # before any erasure there is nothing to prove
    expect(page.locator("#erasure-status")).to_contain_text("No finished erasure")
    page.click("#erase-visitor")  # asks once more, and nothing is erased until it is confirmed
    expect(page.locator("#erasure-status")).to_contain_text(f"Erase visitor {visitor_id} for good?")
    assert shop.call("GET", f"/v1/visitors/{visitor_id}").json()["erased_at"] is None
    with page.expect_download(timeout=60000) as started:
        page.click("#erase-confirm")
    expect(page.locator("#erasure-status")).to_contain_text("Erased: 1 conversation(s) shredded.")
    screenshot(page, "console-erasure")
    path = tmp_path / started.value.suggested_filename
    started.value.save_as(path)
    assert path.name == f"erasure-receipt-{visitor_id}.json"
    assert page.inner_text("#erasure-proof-command").startswith(
        f"python -m chalicelib.transcripts.erasure_proof --receipt {path.name} --public-key audit.pem")
    pem = shop.call("GET", "/v1/audit/public-keys").json()["keys"][0]["public_key_pem"]
    (tmp_path / "audit.pem").write_text(pem)
    proven = subprocess.run([sys.executable, "-m", "chalicelib.transcripts.erasure_proof", "--receipt", str(path),
                             "--public-key", str(tmp_path / "audit.pem"), "--tables-prefix", "switchboard-dev",
                             "--endpoint-url", stack.aws], cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert proven.returncode == 0 and proven.stdout.startswith("PROVEN"), proven.stdout + proven.stderr
    assert f"visitor {visitor_id}" in proven.stdout
