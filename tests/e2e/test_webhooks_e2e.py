"""A webhook on the local stack: a receiver on 127.0.0.1 that fails three times then recovers gets the event,
validly signed, with the same event_id every time; the deliveries list shows four attempts and success.
The first retry waits 1 s on the shared stack (SWITCHBOARD_WEBHOOK_RETRY_SECONDS, tests/conftest.py), so
the retries take seconds, not minutes."""
from __future__ import annotations

import json
import time

import pytest
import requests
from websockets.sync.client import connect

from devstack.harness import RunningStack
from tests.webhook_receiver import receiver

pytestmark = pytest.mark.e2e


def test_a_receiver_that_fails_three_times_gets_the_event_once_it_recovers(stack: RunningStack, tenant: dict):
    with receiver() as endpoint:
        endpoint.script = [500, 502, 503]
        made = stack.post("/v1/webhooks", {"url": endpoint.url, "events": ["conversation.created"]}, tenant["token"])
        assert made.status_code == 201, made.text
        hook = made.json()
        with connect(f"{stack.ws}/?token={tenant['visitor']['visitor_token']}", open_timeout=10) as vera:
            vera.send(json.dumps({"action": "message.send", "client_msg_id": "v1", "text": "hello"}))
            assert json.loads(vera.recv(timeout=10))["type"] == "ack"
        got = endpoint.wait_for(4, timeout=60)
    assert [r.answered for r in got] == [500, 502, 503, 200]
    assert all(r.signed_by(hook["secret"]) for r in got)
    assert len({r.event["event_id"] for r in got}) == 1 and got[0].event["type"] == "conversation.created"
    assert got[0].event["tenant_id"] == tenant["tenant_id"]
    url = f"{stack.base}/v1/webhooks/{hook['webhook_id']}/deliveries"
    deadline = time.monotonic() + 10
    while True:  # the success is recorded just after the receiver answered
        [delivery] = requests.get(url, headers={"Authorization": f"Bearer {tenant['token']}"}, timeout=10).json()[
            "items"]
        if delivery["status"] == "succeeded" or time.monotonic() > deadline:
            break
        time.sleep(0.1)
    assert (delivery["status"], delivery["attempts"], delivery["last_status_code"]) == ("succeeded", 4, 200)
    assert delivery["event_id"] == got[0].event["event_id"]
