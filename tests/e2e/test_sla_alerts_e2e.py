"""sla-alerts on the local stack: two chats wait past a 1-second SLA with nobody online; the job, run
through POST /dev/jobs/sla-alerts, sends the admin one digest, read back through GET /dev/outbox."""
from __future__ import annotations

import json
import time
from contextlib import ExitStack

import pytest
import requests
from websockets.sync.client import connect

from devstack.harness import RunningStack, sign_up
from tests.e2e.test_chat_e2e import frames_until

pytestmark = pytest.mark.e2e


def test_a_digest_of_the_chats_waiting_past_the_sla_reaches_the_outbox(stack: RunningStack):
    tenant = sign_up(stack, name="Late Desk", admin_email="admin@late.example")
    requests.put(stack.base + "/v1/settings", json={"sla_first_response_seconds": 1, "timezone": "Europe/Paris"},
                 headers={"Authorization": f"Bearer {tenant['token']}"}, timeout=10).raise_for_status()
    waiting = set()
    with ExitStack() as sockets:
        for name in ("Vera", "Wang Fang"):
            token = stack.post(f"/v1/widget/{tenant['widget_key']}/sessions", {"name": name}).json()["visitor_token"]
            guest = sockets.enter_context(connect(f"{stack.ws}/?token={token}", open_timeout=10))
            guest.send(json.dumps({"action": "message.send", "client_msg_id": "v1", "text": "anyone there?"}))
            waiting.add(frames_until(guest, "ack")[-1]["conversation_id"])
    time.sleep(1.5)
    assert "sla-alerts" in [job["name"] for job in requests.get(stack.base + "/dev/jobs", timeout=10).json()["jobs"]]
    requests.post(stack.base + "/dev/jobs/sla-alerts", timeout=30).raise_for_status()
    mails = [m for m in requests.get(stack.base + "/dev/outbox", timeout=30).json()["items"]
             if m["to"] == "admin@late.example"]
    # The job also runs on its own every minute: whichever run claimed them, each is told once.
    told = [c for mail in mails for c in waiting if f"#conversation={c}" in mail["text"]]
    assert sorted(told) == sorted(waiting)
    [digest] = [mail for mail in mails if mail["subject"] == "2 chats are waiting and no agent is online"]
    assert "Vera" in digest["text"] and "Wang Fang" in digest["text"] and "Europe/Paris" in digest["text"]
    assert "anyone there" not in json.dumps(mails)
    assert digest["html"] and all(f"#conversation={c}" in digest["html"] for c in waiting)
