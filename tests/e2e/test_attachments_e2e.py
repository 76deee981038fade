"""A file from a visitor's browser to the agent and back, on the local stack: the presigned POST straight to
the embedded S3, the check through the queue worker, the message, the download, and erasure."""
from __future__ import annotations

import json
import time
from contextlib import ExitStack

import pytest
import requests
from websockets.sync.client import connect

from devstack.harness import PASSWORD, RunningStack, sign_up
from tests.attachment_files import png
from tests.e2e.test_chat_e2e import agent_socket, frames_until

pytestmark = pytest.mark.e2e


def get(stack: RunningStack, path: str, token: str, **headers: str) -> requests.Response:
    return requests.get(stack.base + path, headers={"Authorization": f"Bearer {token}", **headers}, timeout=30)


def queue_checks(stack: RunningStack) -> int:
    """How many batches the queue worker has handed the check so far (the shared stack's log)."""
    return sum("attachment-uploads -> attachment_uploads" in line for line in list(stack.output))


def checked_by_the_queue(stack: RunningStack, before: int, timeout: float = 20) -> None:
    """Waits for a batch after the `before` ones: other tests on the shared stack uploaded files too."""
    deadline = time.monotonic() + timeout
    while queue_checks(stack) <= before:
        assert time.monotonic() < deadline, "".join(stack.output[-30:])
        time.sleep(0.2)


def test_a_file_goes_from_visitor_to_agent_and_is_gone_after_erasure(stack: RunningStack, tenant: dict):
    visitor_token = tenant["visitor"]["visitor_token"]
    with ExitStack() as sockets:
        vera = sockets.enter_context(connect(f"{stack.ws}/?token={visitor_token}", open_timeout=10))
        vera.send(json.dumps({"action": "message.send", "client_msg_id": "v1", "text": "my screen shows an error"}))
        conversation_id = frames_until(vera, "ack")[-1]["conversation_id"]
        sam = agent_socket(stack, tenant, "sam@e2e.com", sockets)
        sam.send(json.dumps({"action": "presence.set", "status": "online"}))
        frames_until(sam, "conversation.assigned")

        started = requests.post(f"{stack.base}/v1/conversations/{conversation_id}/attachments",
                                json={"filename": "error.png", "content_type": "image/png", "size": len(png())},
                                headers={"Authorization": f"Bearer {visitor_token}",
                                         "Origin": "https://shop.example"}, timeout=30)
        assert started.status_code == 201, started.text
        assert started.headers["Access-Control-Allow-Origin"] == "*"
        upload = started.json()["upload"]
        attachment_id = started.json()["attachment_id"]
        assert upload["url"].startswith(stack.aws)  # the embedded S3: the API never carries the bytes
        preflight = requests.options(upload["url"], headers={"Origin": "https://shop.example",
                                                             "Access-Control-Request-Method": "POST"}, timeout=10)
        assert preflight.headers.get("Access-Control-Allow-Origin") in ("*", "https://shop.example")
        # The policy holds (on the local stack too: devstack/moto_post_policy.py): no larger file, no other key.
        too_big = requests.post(upload["url"], data=upload["fields"], files={"file": ("x", png() + b"!")}, timeout=30)
        assert too_big.status_code == 400 and b"EntityTooLarge" in too_big.content
        elsewhere = {**upload["fields"], "key": "uploads/other/place"}
        moved = requests.post(upload["url"], data=elsewhere, files={"file": ("x", png())}, timeout=30)
        assert moved.status_code == 403 and b"AccessDenied" in moved.content
        before = queue_checks(stack)
        posted = requests.post(upload["url"], data=upload["fields"], files={"file": ("error.png", png())}, timeout=30)
        assert posted.status_code == 204, posted.text
        checked_by_the_queue(stack, before)
        status = get(stack, f"/v1/attachments/{attachment_id}/status", visitor_token).json()
        assert status["status"] == "ready" and status["size"] == len(png()), status

        vera.send(json.dumps({"action": "message.send", "conversation_id": conversation_id, "client_msg_id": "v2",
                              "text": "", "attachment_ids": [attachment_id]}))
        frames_until(vera, "ack")
        new = frames_until(sam, "message.new")[-1]
        while new.get("seq") != 2:
            new = frames_until(sam, "message.new")[-1]
        assert new["attachments"] == [{"attachment_id": attachment_id, "filename": "error.png",
                                       "content_type": "image/png", "size": len(png())}]

    sam_token = stack.post("/v1/auth/login", {"tenant_id": tenant["tenant_id"], "email": "sam@e2e.com",
                                              "password": PASSWORD}).json()["token"]
    for token in (visitor_token, tenant["token"], sam_token):
        got = get(stack, f"/v1/attachments/{attachment_id}", token, Accept="application/octet-stream")
        assert got.status_code == 200 and got.content == png(), got.text[:200]
        assert got.headers["Content-Type"] == "image/png" and got.headers["X-Content-Type-Options"] == "nosniff"
    part = get(stack, f"/v1/attachments/{attachment_id}", visitor_token, Accept="application/octet-stream",
               Range="bytes=1-3")
    assert part.status_code == 206 and part.content == png()[1:4]

    stranger = stack.post(f"/v1/widget/{tenant['widget_key']}/sessions", {}).json()["visitor_token"]
    other = sign_up(stack, name="Other", admin_email="admin@other.com")
    for token in (stranger, other["token"], other["visitor"]["visitor_token"]):
        assert get(stack, f"/v1/attachments/{attachment_id}", token).status_code == 404

    visitor_id = tenant["visitor"]["visitor_id"]
    erased = requests.delete(f"{stack.base}/v1/visitors/{visitor_id}",
                             headers={"Authorization": f"Bearer {tenant['token']}"}, timeout=30)
    assert erased.status_code == 202
    gone = get(stack, f"/v1/attachments/{attachment_id}", tenant["token"], Accept="application/octet-stream")
    assert gone.status_code == 410 and gone.json()["error"]["code"] == "gone"
