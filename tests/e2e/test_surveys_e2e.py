"""Surveys through the local stack: a chat closed, its survey sent by the job over the WebSocket or
by email (moto's SES), answered, and visible in the report."""
from __future__ import annotations

import json
import re
from contextlib import ExitStack

import pytest
import requests
from websockets.sync.client import connect

from tests.e2e.conftest import RunningStack
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

    mail = requests.get(stack.aws + "/moto-api/data.json", timeout=30).json()["ses"]["Message"]
    [body] = [m["body"] for m in mail if "kim@example.org" in json.dumps(m["destinations"])]
    url = re.search(r"https?://\S+/survey/\S+", body).group(0)
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
