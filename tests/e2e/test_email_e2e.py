"""The email channel on the local stack: an email in (POST /dev/inbound-email: the inbound bucket, its
notification, the queue's function), answered live over WebSocket, the reply in GET /dev/outbox with its
threading headers, and the visitor's answer back in the same conversation."""
from __future__ import annotations

import json
import time
from contextlib import ExitStack

import pytest
import requests

from devstack.harness import RunningStack
from tests.e2e.test_chat_e2e import agent_socket, frames_until
from tests.email_mail import email

pytestmark = pytest.mark.e2e


# Other tests on the shared stack send mail too: this one's visitor has an address of its own.
VISITOR = "vera@parcels-e2e.example"


def outbox(stack: RunningStack, count: int, timeout: float = 20) -> list[dict]:
    deadline = time.monotonic() + timeout
    while True:
        items = requests.get(stack.base + "/dev/outbox", timeout=10).json()["items"]
        replies = [item for item in items
                   if item["headers"].get("X-Switchboard-Conversation") and item["to"] == VISITOR]
        if len(replies) >= count or time.monotonic() > deadline:
            return replies
        time.sleep(0.3)


def send_in(stack: RunningStack, raw: bytes) -> requests.Response:
    return requests.post(stack.base + "/dev/inbound-email", data=raw,
                         headers={"Content-Type": "message/rfc822"}, timeout=10)


def test_an_email_in_answered_live_out_with_threading_and_the_reply_back(stack: RunningStack, tenant: dict):
    address = requests.get(stack.base + "/v1/settings", headers={"Authorization": f"Bearer {tenant['token']}"},
                           timeout=10).json()["inbound_email_address"]
    with ExitStack() as sockets:
        agent = agent_socket(stack, tenant, "mailer@e2e.com", sockets)
        agent.send(json.dumps({"action": "presence.set", "status": "online"}))
        frames_until(agent, "presence")
        accepted = send_in(stack, email(address, "Where is my parcel?", sender=VISITOR,
                                        message_id="<e2e-1@example.org>"))
        assert accepted.status_code == 202
        frames = frames_until(agent, "message.new", timeout=20)
        [assigned] = [f for f in frames if f["type"] == "conversation.assigned"]
        conversation_id = assigned["conversation_id"]
        assert frames[-1]["text"] == "Where is my parcel?" and frames[-1]["channel"] == "email"

        agent.send(json.dumps({"action": "message.send", "conversation_id": conversation_id,
                               "client_msg_id": "a1", "text": "It ships today."}))
        frames_until(agent, "ack")
        [reply] = outbox(stack, 1)
        assert reply["to"] == VISITOR and reply["subject"] == "Re: My parcel"
        assert reply["headers"]["In-Reply-To"] == "<e2e-1@example.org>"
        assert reply["headers"]["References"] == "<e2e-1@example.org>"
        assert reply["text"].startswith("It ships today.") and "It ships today." in reply["html"]

        send_in(stack, email(reply["headers"]["Reply-To"], "Thanks!\n\n> It ships today.", subject="Re: My parcel",
                             sender=VISITOR, In_Reply_To=reply["headers"]["Message-ID"]))
        back = frames_until(agent, "message.new", timeout=20)[-1]
        assert back["conversation_id"] == conversation_id and back["text"] == "Thanks!"


def test_bytes_that_are_no_email_are_refused_clearly(stack: RunningStack):
    refused = send_in(stack, b"not an email at all")
    assert refused.status_code == 400 and refused.json()["error"]["code"] == "malformed_email"
