"""Transcripts through the local stack: encrypted at rest, rotated, downloaded, erased, retained."""
from __future__ import annotations

import json
from contextlib import ExitStack

import boto3
import pytest
import requests
from websockets.exceptions import ConnectionClosed

from devstack.harness import RunningStack
from tests.e2e.test_chat_e2e import agent_socket, frames_until, visitor_socket

pytestmark = pytest.mark.e2e
SECRETS = ["E2E-SECRET-visitor 4111 1111", "E2E-SECRET-agent here is your code 8812",
           "E2E-SECRET-after-rotation 5555"]


def every_stored_item(stack: RunningStack) -> str:
    ddb = boto3.client("dynamodb", endpoint_url=stack.aws, region_name="us-east-1",
                       aws_access_key_id="local", aws_secret_access_key="local")
    return json.dumps([item for table in ddb.list_tables()["TableNames"]
                       for page in ddb.get_paginator("scan").paginate(TableName=table)
                       for item in page["Items"]], default=repr)


def test_encrypted_chat_rotation_download_and_erasure(stack: RunningStack, tenant: dict):
    auth = {"Authorization": f"Bearer {tenant['token']}"}
    with ExitStack() as sockets:
        sam = agent_socket(stack, tenant, "keys@e2e.com", sockets)
        sam.send(json.dumps({"action": "presence.set", "status": "online"}))
        frames_until(sam, "presence")
        vera = visitor_socket(stack, tenant, sockets)
        vera.send(json.dumps({"action": "message.send", "client_msg_id": "v1", "text": SECRETS[0]}))
        conversation_id = frames_until(vera, "ack")[-1]["conversation_id"]
        frames_until(sam, "message.new")
        sam.send(json.dumps({"action": "message.send", "conversation_id": conversation_id,
                             "client_msg_id": "s1", "text": SECRETS[1]}))
        frames_until(vera, "message.new")

        rotated = requests.post(stack.base + "/v1/keys/rotate", headers=auth, timeout=10)
        assert rotated.status_code == 200 and rotated.json()["current_version"] == 2
        vera.send(json.dumps({"action": "message.send", "conversation_id": conversation_id,
                              "client_msg_id": "v2", "text": SECRETS[2]}))
        assert frames_until(sam, "message.new")[-1]["text"] == SECRETS[2]

        text = requests.get(f"{stack.base}/v1/conversations/{conversation_id}/transcript?format=text",
                            headers=auth, timeout=10)
        assert text.status_code == 200 and all(secret in text.text for secret in SECRETS)
        stored, logged = every_stored_item(stack), "".join(stack.output)
        for secret in SECRETS:
            assert secret not in stored and secret not in logged

        visitor_id = requests.get(f"{stack.base}/v1/conversations/{conversation_id}", headers=auth,
                                  timeout=10).json()["visitor_id"]
        erased = requests.delete(f"{stack.base}/v1/visitors/{visitor_id}", headers=auth, timeout=10)
        assert erased.status_code == 202 and erased.json()["conversations_shredded"] == 1
        # The server closes the visitor's socket; the agent hears the conversation closed.
        with pytest.raises(ConnectionClosed):
            while True:
                vera.recv(timeout=10)
        assert frames_until(sam, "conversation.closed")[-1]["conversation_id"] == conversation_id
        listed = requests.get(f"{stack.base}/v1/conversations/{conversation_id}/messages", headers=auth,
                              timeout=10).json()["items"]
        assert [(m["text"], m["redacted"]) for m in listed] == [(None, True)] * 3


def test_retention_runs_through_dev_jobs(stack: RunningStack):
    ran = requests.post(stack.base + "/dev/jobs/retention", timeout=30).json()
    # The demo tenant and this module's tenant; nothing here is a year old.
    assert ran["summary"]["tenants"] >= 2 and ran["summary"]["shredded"] == 0
