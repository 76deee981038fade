"""Appending under contention (group commit, docs/audit.md): racing appenders to one tenant's chain
produce one gap-free chain with every event exactly once, an appender that dies while its event waits
leaves it to be linked later, and readers only ever see linked events."""
from __future__ import annotations

import json
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from botocore.awsrequest import AWSResponse
from moto.core.botocore_stubber import BotocoreStubber, MockRawResponse

from chalicelib.audit import trail
from chalicelib.audit.chain import GENESIS, ChainState
from chalicelib.audit.trail import chain_head, link, record_event, waiting
from chalicelib.storage.audit import AuditPendingModel
from devstack.aws import moto_fixes
from devstack.harness import Api, run_job
from tests.functional.audit_exports import export, offline_verify, write_public_key
from tests.helpers import audit_events

SYSTEM = {"kind": "system", "id": "hammer"}


class AppenderDied(BaseException):
    """The Lambda running the appender dies mid-request: nothing of ours catches it."""


@pytest.fixture
def slow_aws(monkeypatch):
    """Every AWS request answered after 2 ms (outside moto's lock, as requests overlap on AWS), so
    appenders really do race for the head; moto's transactions at item level (devstack/aws.py), so
    its cost does not grow with the table. Yields how many events were left waiting."""
    answer, left_waiting = BotocoreStubber.__call__, Counter()

    def after_a_round_trip(self, event_name, request, **kwargs):
        time.sleep(0.002)
        if event_name.endswith(".PutItem") and b"-audit-pending" in request.body:
            left_waiting["events"] += 1
        return answer(self, event_name, request, **kwargs)

    monkeypatch.setattr(BotocoreStubber, "__call__", after_a_round_trip)
    with moto_fixes():
        yield left_waiting


@pytest.fixture
def transactions(monkeypatch):
    """Answers queued for the next TransactWriteItems requests: "lost" (a condition failed, as when
    another appender moved the head first) or an exception raised (the appender dies)."""
    queued: list[str | BaseException] = []
    answer = BotocoreStubber.__call__

    def call(self, event_name, request, **kwargs):
        if event_name.endswith(".TransactWriteItems") and queued:
            outcome = queued.pop(0)
            if isinstance(outcome, BaseException):
                raise outcome
            items = json.loads(request.body)["TransactItems"]
            body = {"__type": "com.amazonaws.dynamodb.v20120810#TransactionCanceledException",
                    "Message": "Transaction cancelled",
                    "CancellationReasons": [{"Code": "ConditionalCheckFailed"}] + [{"Code": "None"}] * (len(items) - 1)}
            return AWSResponse(request.url, 400, {"Content-Type": "application/x-amz-json-1.0"},
                               MockRawResponse(json.dumps(body)))
        return answer(self, event_name, request, **kwargs)

    monkeypatch.setattr(BotocoreStubber, "__call__", call)
    return queued


def waiting_targets(tenant_id: str) -> list[str]:
    return [item.target for item in AuditPendingModel.query(tenant_id, consistent_read=True)]


def assert_one_chain(tenant_id: str) -> list[dict]:
    """The whole chain holds (seq from 1 without gaps, every link and hash) and ts never goes back."""
    events = audit_events(tenant_id)
    state = ChainState(1, GENESIS)
    for event in events:
        state.accept(event)
    assert [e["ts"] for e in events] == sorted(e["ts"] for e in events)
    head = chain_head(tenant_id)
    assert head and (int(head.last_seq), head.last_hash) == (len(events), events[-1]["hash"])
    return events


def test_32_racing_appenders_make_one_chain_with_every_event_once(api: Api, tenant: dict, slow_aws,
                                                                   tmp_path: Path):
    t = tenant["tenant_id"]
    start = len(audit_events(t))
    appends = 32 * 5

    def append(n: int) -> None:
        record_event(t, SYSTEM, "test.hammer", f"n{n}", {"n": n})

    with ThreadPoolExecutor(32) as pool:
        list(pool.map(append, range(appends)))
    events = assert_one_chain(t)
    assert len(events) == start + appends
    hammered = Counter((e["target"], json.dumps(e["details"])) for e in events[start:])
    assert hammered == Counter((f"n{n}", json.dumps({"n": n})) for n in range(appends))  # each exactly once
    assert waiting_targets(t) == []
    # The race was real: many appenders lost the head and waited to be linked in a batch.
    assert slow_aws["events"] > appends // 4
    # The offline verifier accepts the export of the whole chain.
    ready, path = export(api, tenant, tmp_path, "2000-01-01T00:00:00Z", "2100-01-01T00:00:00Z", "hammered")
    assert ready["event_count"] == len(events) + 1  # and the export's own audit.export_requested
    verified = offline_verify(path, "--public-key", write_public_key(api, tenant, tmp_path), "--tenant", t)
    assert verified.returncode == 0, verified.stdout + verified.stderr
    assert f"events        {len(events) + 1}, seq 1..{len(events) + 1}" in verified.stdout
    assert run_job("audit-verify")["broken"] == []


def test_a_batch_is_linked_once_the_second_linker_loses_cleanly(tenant: dict, clock, transactions):
    t = tenant["tenant_id"]
    transactions += ["lost", AppenderDied(), "lost", AppenderDied()]
    for n in range(2):
        with pytest.raises(AppenderDied):
            record_event(t, SYSTEM, "test.waited", f"w{n}")
        clock.advance(trail.ABANDONED_SECONDS + 1)  # its appender is gone: the next one links its event too
    head, batch = chain_head(t), waiting(t)
    assert [draft.target for draft in batch] == ["w0", "w1"]
    first = link(t, head, batch)
    assert first is not None and sorted(first.values()) == [int(head.last_seq) + 1, int(head.last_seq) + 2]
    assert link(t, head, batch) is None  # the same batch on the same head: refused, nothing written
    assert link(t, chain_head(t), batch) is None  # on the new head: its waiting items are gone, refused
    events = assert_one_chain(t)
    assert [e["target"] for e in events[-2:]] == ["w0", "w1"] and waiting_targets(t) == []


def test_an_appender_that_dies_waiting_is_linked_by_the_next_appender_of_its_tenant(api: Api, tenant: dict,
                                                                                    clock, transactions):
    t = tenant["tenant_id"]
    other = api.signup(name="Other", email="admin@other.com")["tenant_id"]
    transactions += ["lost", AppenderDied()]  # lost the race, left its event waiting, then died
    with pytest.raises(AppenderDied):
        record_event(t, SYSTEM, "test.died", "orphan")
    assert waiting_targets(t) == ["orphan"]
    assert "orphan" not in [e["target"] for e in audit_events(t)]  # not on the trail while it waits
    listed = api.call("GET", "/v1/audit/events", token=tenant["admin_token"]).json_body["items"]
    assert "orphan" not in [e["target"] for e in listed]
    # Another tenant's contended append links only its own tenant's waiting events.
    transactions.append("lost")
    record_event(other, SYSTEM, "test.other", "theirs")
    assert waiting_targets(t) == ["orphan"] and "orphan" not in [e["target"] for e in audit_events(other)]
    assert_one_chain(other)
    # Once the orphan is older than a live appender takes to link, this tenant's next contended
    # append links it and itself in one transaction.
    clock.advance(trail.ABANDONED_SECONDS + 1)
    transactions.append("lost")
    record_event(t, SYSTEM, "test.next", "next")
    events = assert_one_chain(t)
    assert [e["target"] for e in events[-2:]] == ["orphan", "next"]
    assert waiting_targets(t) == []


def test_audit_verify_links_what_dead_appenders_left_waiting_beyond_one_transaction(api: Api, tenant: dict,
                                                                                    clock, transactions):
    t = tenant["tenant_id"]
    transactions += ["lost", AppenderDied()]
    with pytest.raises(AppenderDied):
        record_event(t, SYSTEM, "test.died", "early")
    clock.advance(3600)  # later events are linked first; the orphan's ts must not go back behind them
    record_event(t, SYSTEM, "test.later", "later")
    # More waiting than one transaction can link (100 items: the head, a put and a delete each).
    dead = trail.MAX_BATCH + 11
    for n in range(dead):
        AuditPendingModel(t, f"2026-01-01T00:00:{n:02d}.000000+00:00#dead{n:02d}", ts="2026-01-01T00:00:00Z",
                          actor=SYSTEM, action="test.died", target=f"d{n}", details={"n": n}).save()
    before = len(audit_events(t))
    summary = run_job("audit-verify")
    assert summary["events_linked"] == dead + 1 and summary["broken"] == []
    events = assert_one_chain(t)
    assert len(events) == before + dead + 1 and waiting_targets(t) == []
    assert Counter(e["target"] for e in events[before:]) == Counter(["early", *(f"d{n}" for n in range(dead))])
    assert all(e["ts"] >= events[before - 1]["ts"] for e in events[before:])
    assert run_job("audit-verify") == {**summary, "events_linked": 0, "events_verified": 0, "digests_signed": 0}
    admin = api.login(t, "admin@acme.com")  # the session of an hour ago has expired
    listed = api.call("GET", "/v1/audit/events", token=admin).json_body["items"]
    assert "early" in [e["target"] for e in listed]


def test_an_append_that_keeps_losing_fails_loudly_and_its_event_is_still_linked_later(tenant: dict, transactions,
                                                                                      monkeypatch, caplog):
    t = tenant["tenant_id"]
    monkeypatch.setattr(trail, "MAX_ATTEMPTS", 3)
    transactions += ["lost"] * 4  # the uncontended try and every linking round
    with pytest.raises(RuntimeError, match="could not append test.unlucky"):
        record_event(t, SYSTEM, "test.unlucky", "unlucky")
    assert '"alarm": "audit_append_failed"' in caplog.text
    assert waiting_targets(t) == ["unlucky"] and transactions == []
    assert run_job("audit-verify")["events_linked"] == 1
    assert assert_one_chain(t)[-1]["target"] == "unlucky"
