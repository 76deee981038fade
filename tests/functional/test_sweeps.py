"""The retention and send-surveys sweeps continue past one run's budget: bounded pages, the pass's
position kept on the job's cursor item and taken up by the next run (chalicelib/storage/sweeps.py).

Forced here with pages of two items and a budget of one item per run; a run that starts again from a
cursor another run already moved past (an overlapping or repeated invocation) does nothing twice."""
from __future__ import annotations

import boto3
import pytest

from chalicelib.storage import sweeps
from chalicelib.storage.conversations import ConversationModel
from chalicelib.storage.surveys import SurveyModel
from devstack.harness import Api, agent, run_job, run_sweep, visitor
from tests.helpers import audit_events, use_limits

CURSORS = "switchboard-test-job-cursors"


@pytest.fixture
def tiny_runs(monkeypatch):
    monkeypatch.setattr(sweeps, "PAGE_ITEMS", 2)
    use_limits(sweep_items_per_run=1)


def closed_conversations(api: Api, tenant: dict, count: int) -> list[str]:
    sam = agent(api, tenant, "sam@acme.com")
    sam.send(action="presence.set", status="online")
    ids = []
    for n in range(count):
        vera = visitor(api, tenant)
        vera.send(action="message.send", client_msg_id="v1", text=f"chat {n}")
        conversation_id = vera.of_type("ack")[0]["conversation_id"]
        vera.send(action="conversation.close", conversation_id=conversation_id)
        ids.append(conversation_id)
    return ids


def cursor(job: str) -> dict | None:
    return boto3.client("dynamodb").get_item(TableName=CURSORS, Key={"job": {"S": job}},
                                             ConsistentRead=True).get("Item")


def put_cursor(item: dict) -> None:
    boto3.client("dynamodb").put_item(TableName=CURSORS, Item=item)


def test_retention_continues_its_pass_across_runs_and_shreds_each_once(api: Api, tenant: dict, clock, tiny_runs):
    t = tenant["tenant_id"]
    api.call("PUT", "/v1/settings", {"retention_days": 1}, token=tenant["admin_token"])
    ids = closed_conversations(api, tenant, 5)
    clock.advance(2 * 86400)
    first = run_job("retention")
    assert first == {"tenants": 1, "shredded": 2, "attested": 1, "pass_finished": False}
    left_at = cursor("retention")
    assert left_at is not None and left_at["partition"]["S"] == t
    second = run_job("retention")
    assert second["shredded"] == 2 and not second["pass_finished"]
    put_cursor(left_at)  # a run that read the cursor before the second run moved it
    again = run_job("retention")
    assert again["shredded"] == 1  # the two the second run shredded left the index: only the last is new
    rest = run_sweep("retention")
    assert rest["shredded"] == 0 and cursor("retention") is None  # the pass is over: the next run begins anew
    assert all(ConversationModel.get(t, cid).shredded_at is not None for cid in ids)
    recorded = [e["details"]["digest"] for e in audit_events(t) if e["action"] == "retention.attested"]
    shredding = [digest["shredded"] for digest in recorded if digest["shredded"]]
    assert sum(shredding) == 5 and len(shredding) == 3  # one attestation per run that shredded, none counted twice
    # A run that stopped inside the tenant says so; the one that finished it attests the day complete.
    assert [digest["complete"] for digest in recorded] == [False, False, True]


def test_send_surveys_continues_its_pass_across_runs_and_surveys_each_once(api: Api, tenant: dict, clock,
                                                                           tiny_runs):
    t = tenant["tenant_id"]
    api.call("PUT", "/v1/settings", {"survey_delay_seconds": 0}, token=tenant["admin_token"])
    ids = closed_conversations(api, tenant, 5)
    clock.advance(5)
    first = run_job("send-surveys")
    assert first["pass_finished"] is False and cursor("send-surveys") is not None
    left_at = cursor("send-surveys")
    total = run_sweep("send-surveys")
    assert total["runs"] > 1 and cursor("send-surveys") is None
    put_cursor(left_at)  # an overlapping run from where the first stopped
    repeated = run_sweep("send-surveys")
    counted = ("websocket", "email", "none", "suppressed", "capped_tenant", "capped_address", "failed")
    assert sum(first[k] + total[k] for k in counted) == 5 and sum(repeated[k] for k in counted) == 0
    assert sorted(s.conversation_id for s in SurveyModel.query(t)) == sorted(ids)
    assert all(ConversationModel.get(t, cid).survey_due_at is None for cid in ids)
