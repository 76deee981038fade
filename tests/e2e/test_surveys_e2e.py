"""Surveys through the local stack: a chat closed, its survey sent by the job over the WebSocket or
by email (moto's SES, read back through GET /dev/outbox), answered, and visible in the report; the
emails carry nothing a visitor typed, and honour one-click unsubscribes and SES's bounces."""
from __future__ import annotations

import json
import re
import time
from contextlib import ExitStack

import pytest
import requests
from websockets.sync.client import connect

from devstack.harness import RunningStack, sign_up
from tests.e2e.test_chat_e2e import agent_socket, frames_until

pytestmark = pytest.mark.e2e


def chat_and_close(stack: RunningStack, tenant: dict, sockets: ExitStack, agent_email: str,
                   **profile) -> tuple[object, str, str]:
    """(visitor socket, conversation id, visitor token) of a chat the agent answered and closed."""
    sam = agent_socket(stack, tenant, agent_email, sockets)
    sam.send(json.dumps({"action": "presence.set", "status": "online"}))
    frames_until(sam, "presence")
    token = stack.post(f"/v1/widget/{tenant['widget_key']}/sessions", profile).json()["visitor_token"]
    vera = sockets.enter_context(connect(f"{stack.ws}/?token={token}", open_timeout=10))
    vera.send(json.dumps({"action": "message.send", "client_msg_id": "v1", "text": "hello"}))
    conversation_id = frames_until(vera, "ack")[-1]["conversation_id"]
    frames_until(sam, "message.new")
    sam.send(json.dumps({"action": "message.send", "conversation_id": conversation_id, "client_msg_id": "s1",
                         "text": "hi"}))
    sam.send(json.dumps({"action": "conversation.close", "conversation_id": conversation_id,
                         "resolution": "resolved"}))
    frames_until(vera, "conversation.closed")
    sam.send(json.dumps({"action": "presence.set", "status": "offline"}))
    return vera, conversation_id, token


def test_surveys_by_websocket_and_by_email_end_in_the_report(stack: RunningStack, tenant: dict):
    auth = {"Authorization": f"Bearer {tenant['token']}"}
    requests.put(stack.base + "/v1/settings", json={"survey_delay_seconds": 0}, headers=auth,
                 timeout=10).raise_for_status()
    with ExitStack() as sockets:
        vera, by_socket, _ = chat_and_close(stack, tenant, sockets, "survey1@e2e.com")
        with ExitStack() as gone:
            _, by_mail, _ = chat_and_close(stack, tenant, gone, "survey2@e2e.com", email="kim@example.org")
        ran = requests.post(stack.base + "/dev/jobs/send-surveys", timeout=30).json()["summary"]
        assert ran["websocket"] >= 1 and ran["email"] >= 1
        frame = frames_until(vera, "survey.request")[-1]
        assert frame["conversation_id"] == by_socket
        answered = requests.post(f"{stack.base}/v1/surveys/{frame['survey_token']}", json={"rating": 5}, timeout=10)
        assert answered.status_code == 200

    [mail] = outbox(stack, "kim@example.org")
    url = re.search(r"https?://\S+/survey/\S+", mail["text"]).group(0)
    page = requests.get(url, timeout=10)
    assert page.status_code == 200 and "How would you rate" in page.text
    token = url.rsplit("/", 1)[1]
    assert requests.post(f"{stack.base}/v1/surveys/{token}", json={"rating": 2, "comment": "slow"},
                         timeout=10).status_code == 200
    assert requests.post(f"{stack.base}/v1/surveys/{token}", json={"rating": 4}, timeout=10).status_code == 409

    report = requests.get(stack.base + "/v1/reports/summary", headers=auth, timeout=10).json()
    assert report["csat"]["distribution"]["5"] >= 1 and report["csat"]["distribution"]["2"] >= 1
    follow_ups = requests.get(stack.base + "/v1/follow-ups?status=open", headers=auth, timeout=10).json()["items"]
    assert any(f["conversation_id"] == by_mail and f["reason"] == "low_rating" for f in follow_ups)


def outbox(stack: RunningStack, to: str) -> list[dict]:
    items = requests.get(stack.base + "/dev/outbox", timeout=30).json()["items"]
    return [item for item in items if item["to"] == to]


def surveyed(stack: RunningStack, tenant: dict, agent: object, email: str, name: str | None = None,
             text: str = "hello") -> str:
    """The channel the survey of a fresh chat from `email` went by, once send-surveys dealt with it."""
    profile = {"email": email, **({"name": name} if name else {})}
    token = stack.post(f"/v1/widget/{tenant['widget_key']}/sessions", profile).json()["visitor_token"]
    with connect(f"{stack.ws}/?token={token}", open_timeout=10) as guest:
        guest.send(json.dumps({"action": "message.send", "client_msg_id": "v1", "text": text}))
        conversation_id = frames_until(guest, "ack")[-1]["conversation_id"]
        frames_until(agent, "message.new")
        agent.send(json.dumps({"action": "conversation.close", "conversation_id": conversation_id,
                               "resolution": "resolved"}))
        frames_until(guest, "conversation.closed")
    requests.post(stack.base + "/dev/jobs/send-surveys", timeout=30).raise_for_status()
    deadline = time.monotonic() + 30  # the scheduler's own run may hold it a moment
    while True:
        survey = requests.get(f"{stack.base}/v1/conversations/{conversation_id}/survey",
                              headers={"Authorization": f"Bearer {tenant['token']}"}, timeout=10)
        if survey.status_code == 200 or time.monotonic() > deadline:
            return survey.json()["channel"]
        time.sleep(0.1)  # polling interval


def surveying_shop(stack: RunningStack, name: str, domain: str, sockets: ExitStack) -> tuple[dict, object]:
    shop = sign_up(stack, name, f"admin@{domain}")
    requests.put(stack.base + "/v1/settings", json={"survey_delay_seconds": 0},
                 headers={"Authorization": f"Bearer {shop['token']}"}, timeout=10).raise_for_status()
    sam = agent_socket(stack, shop, f"sam@{domain}", sockets)
    sam.send(json.dumps({"action": "presence.set", "status": "online"}))
    frames_until(sam, "presence")
    return shop, sam


def test_survey_emails_hold_no_visitor_text_and_honour_unsubscribes_and_bounces(stack: RunningStack):
    with ExitStack() as sockets:
        shop_a, sam = surveying_shop(stack, "Shop A", "a.e2e", sockets)
        shop_b, kim = surveying_shop(stack, "Shop B", "b.e2e", sockets)
        assert surveyed(stack, shop_a, sam, "vera@example.org", name="<a href=evil>Click here to verify your bank</a>",
                        text="<!-- verify your account at https://evil.example/login -->") == "email"
        [mail] = outbox(stack, "vera@example.org")
        everything = json.dumps(mail)
        for typed in ("evil", "href", "Click here", "verify", "<!--"):
            assert typed not in everything, typed
        assert mail["from"] == "surveys@mail.switchboard.example" and mail["sent_at"].endswith("Z")
        link = mail["headers"]["List-Unsubscribe"].strip("<>")
        assert link.startswith(stack.base + "/v1/unsubscribe/") and link in mail["text"]
        assert mail["headers"]["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"

        # One click as a mail client makes it (RFC 8058): a form POST, no session; twice is the same.
        page = requests.get(link, timeout=10)
        assert page.status_code == 200 and "Shop A" in page.text
        for _ in range(2):
            done = requests.post(link, data={"List-Unsubscribe": "One-Click"}, timeout=10)
            assert done.status_code == 200 and "no more emails" in done.text
        forged = requests.post(link[:-8] + "AAAAAAAA", data={"List-Unsubscribe": "One-Click"}, timeout=10)
        assert forged.status_code == 404
        assert surveyed(stack, shop_a, sam, "vera@example.org") == "none"
        assert surveyed(stack, shop_b, kim, "vera@example.org") == "email"  # another shop still may
        assert len(outbox(stack, "vera@example.org")) == 2

        # SES reports a permanent bounce: no tenant emails the address again.
        bounce = {"eventType": "Bounce", "bounce": {"bounceType": "Permanent",
                                                    "bouncedRecipients": [{"emailAddress": "gone@example.org"}]}}
        fed = requests.post(stack.base + "/dev/ses-events",
                            json={"Type": "Notification", "Message": json.dumps(bounce)}, timeout=10)
        assert fed.json() == {"delivered": {"ses_feedback": {"suppressed": 1, "ignored": 0}}}
        assert requests.post(stack.base + "/dev/ses-events", data="not json", timeout=10).json() == {
            "delivered": {"ses_feedback": {"suppressed": 0, "ignored": 1}}}
        assert surveyed(stack, shop_a, sam, "gone@example.org") == "none"
        assert surveyed(stack, shop_b, kim, "gone@example.org") == "none"
        assert outbox(stack, "gone@example.org") == []
