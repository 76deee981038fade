"""Faults injected below botocore (throttling, transaction conflicts, KMS down, a Lambda dying between
two writes, a scheduled event delivered twice): no acked message is lost or doubled, no capacity
leaks, and the sender always learns the outcome (an ack, or an error frame it can retry on)."""
from __future__ import annotations

import json
import types
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC

import pytest
from botocore.awsrequest import AWSResponse
from moto.core.botocore_stubber import BotocoreStubber, MockRawResponse

from chalicelib.storage.agents import AgentModel
from chalicelib.storage.conversations import ConversationModel, MessageModel
from devstack.harness import Api, Party, agent, run_job, visitor
from tests.helpers import all_items, without_rate_limits


class LambdaCrashed(BaseException):
    """The function's process dies mid-request: nothing of ours catches it (a BaseException)."""


@dataclass
class Fault:
    """An error answered instead of `operation` ("dynamodb.TransactWriteItems"), after letting `skip`
    calls through, for `times` calls (None: until the context ends)."""
    operation: str
    error: str | BaseException
    skip: int = 0
    times: int | None = None
    seen: int = 0
    injected: int = 0

    def applies(self, event_name: str) -> bool:
        if not event_name.endswith("." + self.operation):
            return False
        self.seen += 1
        due = self.seen > self.skip and (self.times is None or self.injected < self.times)
        self.injected += due
        return due


@dataclass
class Faults:
    active: list[Fault] = field(default_factory=list)

    def response(self, event_name: str, request) -> AWSResponse | None:
        for fault in self.active:
            if fault.applies(event_name):
                if isinstance(fault.error, BaseException):
                    raise fault.error
                return _error_response(request, fault.error)
        return None


def _error_response(request, code: str) -> AWSResponse:
    """What DynamoDB or KMS (both JSON protocols) answer for `code`."""
    body = {"__type": f"com.amazonaws.service#{code}", "message": f"injected {code}"}
    status = 500 if code in ("KMSInternalException", "InternalServerError") else 400
    if code == "TransactionConflict":
        items = json.loads(request.body)["TransactItems"]
        body = {"__type": "com.amazonaws.dynamodb.v20120810#TransactionCanceledException",
                "Message": "Transaction cancelled, please refer cancellation reasons for specific reasons",
                "CancellationReasons": [{"Code": "TransactionConflict", "Message": "injected"}]
                + [{"Code": "None"}] * (len(items) - 1)}
    return AWSResponse(request.url, status, {"Content-Type": "application/x-amz-json-1.0"},
                       MockRawResponse(json.dumps(body)))


@pytest.fixture
def faults(monkeypatch) -> Faults:
    """Faults answer before moto does; botocore's own retries see them as they would AWS's answers
    (without sleeping between attempts: how many attempts, not how long, is what matters here)."""
    import botocore.endpoint

    injected = Faults()
    moto_call = BotocoreStubber.__call__

    def call(self, event_name, request, **kwargs):
        return injected.response(event_name, request) or moto_call(self, event_name, request, **kwargs)

    monkeypatch.setattr(BotocoreStubber, "__call__", call)
    monkeypatch.setattr(botocore.endpoint, "time", types.SimpleNamespace(sleep=lambda seconds: None))
    return injected


@contextmanager
def fault(faults: Faults, operation: str, error: str | BaseException, *, skip: int = 0,
          times: int | None = None) -> Iterator[Fault]:
    injected = Fault(operation, error, skip, times)
    faults.active.append(injected)
    try:
        yield injected
    finally:
        faults.active.remove(injected)


# --- What the suite checks after every fault ---------------------------------------------------------
def transcript(tenant_id: str, conversation_id: str) -> list[tuple[int, str | None]]:
    """(seq, client_msg_id) of every stored message, in seq order."""
    return [(int(m.seq), m.client_msg_id)
            for m in MessageModel.query(f"{tenant_id}#{conversation_id}", consistent_read=True)]


def assert_acked_exactly_once(tenant_id: str, acks: list[dict]) -> None:
    """Every ack names a stored message with that client_msg_id, each stored once, gap-free."""
    by_conversation: dict[str, set[str]] = {}
    for ack in acks:
        by_conversation.setdefault(ack["conversation_id"], set()).add(ack["client_msg_id"])
    for conversation_id, acked in by_conversation.items():
        stored = transcript(tenant_id, conversation_id)
        ids = [client_msg_id for _, client_msg_id in stored]
        assert [seq for seq, _ in stored] == list(range(1, len(stored) + 1))
        assert all(ids.count(client_msg_id) == 1 for client_msg_id in acked), (acked, stored)


def assert_capacity_matches_what_is_held(tenant_id: str) -> None:
    for held_by in AgentModel.query(tenant_id, consistent_read=True):
        held = [c for c in ConversationModel.query(tenant_id, consistent_read=True)
                if c.status == "assigned" and c.agent_id == held_by.agent_id]
        assert int(held_by.load) == len(held), held_by.email


def outcome(party: Party, client_msg_id: str) -> list[dict]:
    """The ack or error frames that answer one client_msg_id."""
    return [f for f in party.new_frames() if f["type"] in ("ack", "error")
            and (f.get("client_msg_id") == client_msg_id or f.get("ref") == client_msg_id)]


def opened(api: Api, tenant: dict) -> tuple[Party, str]:
    """A visitor whose conversation is open (one acked message)."""
    vera = visitor(api, tenant, name="Vera")
    vera.send(action="message.send", client_msg_id="v0", text="hello")
    [ack] = outcome(vera, "v0")
    return vera, ack["conversation_id"]


# --- DynamoDB throttling -------------------------------------------------------------------------
@pytest.mark.parametrize("code", ["ProvisionedThroughputExceededException", "ThrottlingException"])
def test_a_throttle_the_sdk_retries_away_still_stores_once_and_acks(api: Api, tenant: dict, faults: Faults,
                                                                       code: str):
    vera, conversation_id = opened(api, tenant)
    with fault(faults, "dynamodb.PutItem", code, times=2) as throttled:
        vera.send(action="message.send", conversation_id=conversation_id, client_msg_id="v1", text="again")
    assert throttled.injected == 2
    [ack] = outcome(vera, "v1")
    assert ack["type"] == "ack" and ack["seq"] == 2
    assert transcript(tenant["tenant_id"], conversation_id) == [(1, "v0"), (2, "v1")]


@pytest.mark.parametrize("operation", ["dynamodb.PutItem", "dynamodb.Query", "dynamodb.GetItem"])
def test_a_lasting_throttle_is_an_error_frame_and_the_retry_stores_once(api: Api, tenant: dict, faults: Faults,
                                                                        operation: str):
    vera, conversation_id = opened(api, tenant)
    before = without_rate_limits(all_items())
    with fault(faults, operation, "ProvisionedThroughputExceededException") as throttled:
        vera.send(action="message.send", conversation_id=conversation_id, client_msg_id="v1", text="again")
    # The SDK's attempts, then one answer; no retry loop of ours multiplies them.
    assert throttled.injected == 4
    [error] = outcome(vera, "v1")
    assert error["type"] == "error" and error["code"] == "unavailable" and error["ref"] == "v1"
    assert without_rate_limits(all_items()) == before
    vera.send(action="message.send", conversation_id=conversation_id, client_msg_id="v1", text="again")
    [ack] = outcome(vera, "v1")
    assert ack["type"] == "ack" and ack["seq"] == 2
    assert_acked_exactly_once(tenant["tenant_id"], [ack])


def test_an_unreadable_connection_record_still_gets_an_answer(api: Api, tenant: dict, faults: Faults):
    vera, _ = opened(api, tenant)
    # The record is read by the UpdateItem that counts the frame (chalicelib/ratelimit.py, count_frame).
    with fault(faults, "dynamodb.UpdateItem", "ThrottlingException"):
        vera.send(action="ping")
    [error] = vera.new_frames()
    assert error["type"] == "error" and error["code"] == "unavailable"
    vera.send(action="ping")
    assert vera.new_frames() == [{"type": "pong"}]


# --- Transaction conflicts ---------------------------------------------------------------------
def test_transaction_conflicts_on_a_first_reply_are_retried_and_store_once(api: Api, tenant: dict, faults: Faults):
    # An agent's first reply is the one message written in a transaction (it records the first response).
    sam = agent(api, tenant, "sam@acme.com")
    sam.send(action="presence.set", status="online")
    _, conversation_id = opened(api, tenant)
    with fault(faults, "dynamodb.TransactWriteItems", "TransactionConflict", times=3) as conflicts:
        sam.send(action="message.send", conversation_id=conversation_id, client_msg_id="s1", text="hi")
    assert conflicts.injected == 3
    [ack] = outcome(sam, "s1")
    assert ack["type"] == "ack" and ack["seq"] == 2
    assert_acked_exactly_once(tenant["tenant_id"], [ack])
    assert ConversationModel.get(tenant["tenant_id"], conversation_id).first_response_at is not None


def test_a_conflict_on_assignment_still_assigns_once_and_counts_capacity_once(api: Api, tenant: dict,
                                                                               faults: Faults):
    sam = agent(api, tenant, "sam@acme.com", max_concurrent=2)
    sam.send(action="presence.set", status="online")
    vera = visitor(api, tenant, name="Vera")
    # The conversation's creation and the message pass; the assignment's transaction conflicts once.
    with fault(faults, "dynamodb.TransactWriteItems", "TransactionConflict", skip=2, times=1) as conflicts:
        vera.send(action="message.send", client_msg_id="v1", text="hello")
    assert conflicts.injected == 1
    [assigned] = sam.of_type("conversation.assigned")
    assert AgentModel.get(tenant["tenant_id"], assigned["agent"]["agent_id"]).load == 1
    assert_capacity_matches_what_is_held(tenant["tenant_id"])


def test_a_close_that_keeps_conflicting_tells_the_agent_and_leaks_nothing(api: Api, tenant: dict, faults: Faults):
    sam = agent(api, tenant, "sam@acme.com")
    sam.send(action="presence.set", status="online")
    vera, conversation_id = opened(api, tenant)
    sam.new_frames()
    with fault(faults, "dynamodb.TransactWriteItems", "TransactionConflict"):
        sam.send(action="conversation.close", conversation_id=conversation_id, resolution="resolved")
    [error] = [f for f in sam.new_frames() if f["type"] == "error"]
    assert error["code"] == "conflict" and error["ref"] == "conversation.close"
    assert error["conversation_id"] == conversation_id  # which of the agent's closes to send again
    assert ConversationModel.get(tenant["tenant_id"], conversation_id).status == "assigned"
    assert_capacity_matches_what_is_held(tenant["tenant_id"])
    sam.send(action="conversation.close", conversation_id=conversation_id, resolution="resolved")
    assert vera.of_type("conversation.closed")
    assert_capacity_matches_what_is_held(tenant["tenant_id"])


# --- KMS unavailable ---------------------------------------------------------------------------------
@pytest.mark.parametrize("code", ["KMSInternalException", "DependencyTimeoutException"])
def test_kms_down_on_a_first_message_is_an_error_frame_and_writes_nothing(api: Api, tenant: dict, faults: Faults,
                                                                          code: str):
    from chalicelib.runtime import runtime

    runtime()._cache.pop("key_ring", None)  # a fresh container: the tenant key is not cached
    vera = visitor(api, tenant, name="Vera")
    before = without_rate_limits(all_items())
    with fault(faults, "kms.Decrypt", code) as down:
        vera.send(action="message.send", client_msg_id="v1", text="hello")
    assert down.injected >= 1
    [error] = outcome(vera, "v1")
    assert error["type"] == "error" and error["code"] == "unavailable" and error["ref"] == "v1"
    assert without_rate_limits(all_items()) == before
    vera.send(action="message.send", client_msg_id="v1", text="hello")
    [ack] = outcome(vera, "v1")
    assert ack["type"] == "ack" and ack["seq"] == 1
    assert_acked_exactly_once(tenant["tenant_id"], [ack])


# --- A crash between two writes ----------------------------------------------------------------------
def test_a_crash_after_the_conversation_opened_but_before_the_message_is_repaired_by_the_retry(
        api: Api, tenant: dict, faults: Faults):
    sam = agent(api, tenant, "sam@acme.com")
    sam.send(action="presence.set", status="online")
    vera = visitor(api, tenant, name="Vera")
    # The transaction opens the conversation; the Lambda dies at the message's first write (its claim).
    with fault(faults, "dynamodb.PutItem", LambdaCrashed(), times=1):
        with pytest.raises(LambdaCrashed):
            vera.send(action="message.send", client_msg_id="v1", text="hello")
    assert outcome(vera, "v1") == []  # no ack: the widget sends again with the same client_msg_id
    [conversation] = ConversationModel.query(tenant["tenant_id"])
    assert conversation.status == "queued" and conversation.last_seq == 0
    vera.send(action="message.send", client_msg_id="v1", text="hello")
    [ack] = outcome(vera, "v1")
    assert ack == {"type": "ack", "client_msg_id": "v1", "conversation_id": conversation.conversation_id, "seq": 1}
    # The retried opening message routes the conversation as the first attempt would have.
    assert [f["conversation_id"] for f in sam.of_type("conversation.assigned")] == [conversation.conversation_id]
    assert_acked_exactly_once(tenant["tenant_id"], [ack])
    assert_capacity_matches_what_is_held(tenant["tenant_id"])


@pytest.mark.parametrize("others_meanwhile", [0, 2])
def test_a_crash_between_the_claim_and_the_message_is_repaired_by_the_retry_without_a_hole(
        api: Api, tenant: dict, faults: Faults, others_meanwhile: int):
    sam = agent(api, tenant, "sam@acme.com")
    sam.send(action="presence.set", status="online")
    sam.send(action="message.send", conversation_id=(opened_id := opened(api, tenant)[1]), client_msg_id="s0",
             text="hello")
    tab = Party(api.login(tenant["tenant_id"], "sam@acme.com"))  # sam's reconnected tab sends it again
    # The client_msg_id's claim on seq 3 is written; the Lambda dies before the message's own write.
    with fault(faults, "dynamodb.PutItem", LambdaCrashed(), skip=1, times=1):
        with pytest.raises(LambdaCrashed):
            sam.send(action="message.send", conversation_id=opened_id, client_msg_id="s1", text="one more")
    assert transcript(tenant["tenant_id"], opened_id) == [(1, "v0"), (2, "s0")]
    # Others write meanwhile: the seq the claim aimed at goes to the next message, never left empty.
    for n in range(others_meanwhile):
        sam.send(action="message.send", conversation_id=opened_id, client_msg_id=f"x{n}", text="and")
    tab.send(action="message.send", conversation_id=opened_id, client_msg_id="s1", text="one more")
    [ack] = outcome(tab, "s1")
    assert ack["seq"] == 3 + others_meanwhile
    tab.send(action="message.send", conversation_id=opened_id, client_msg_id="s1", text="one more")
    assert outcome(tab, "s1") == [ack]  # and from then on, it is that message
    acks = [ack, *sam.of_type("ack")]
    assert_acked_exactly_once(tenant["tenant_id"], acks)
    assert len(transcript(tenant["tenant_id"], opened_id)) == 3 + others_meanwhile


def test_a_crash_after_the_message_is_stored_but_before_the_ack_loses_and_doubles_nothing(
        api: Api, tenant: dict, faults: Faults):
    vera, conversation_id = opened(api, tenant)
    with fault(faults, "apigatewaymanagementapi.PostToConnection", LambdaCrashed(), times=1):
        with pytest.raises(LambdaCrashed):
            vera.send(action="message.send", conversation_id=conversation_id, client_msg_id="v1", text="again")
    assert outcome(vera, "v1") == []
    vera.send(action="message.send", conversation_id=conversation_id, client_msg_id="v1", text="again")
    [ack] = outcome(vera, "v1")
    assert ack["seq"] == 2
    assert transcript(tenant["tenant_id"], conversation_id) == [(1, "v0"), (2, "v1")]



# --- Capacity drift and the reconcile-capacity job --------------------------------------------------
def held_chat(api: Api, tenant: dict) -> tuple[Party, str, str]:
    """Sam (online, room for 3) holds one conversation: sam, sam's agent id, the conversation."""
    sam = agent(api, tenant, "sam@acme.com", max_concurrent=3)
    sam.send(action="presence.set", status="online")
    _, conversation_id = opened(api, tenant)
    [assigned] = sam.of_type("conversation.assigned")
    return sam, assigned["agent"]["agent_id"], conversation_id


def drift(tenant: dict, agent_id: str, table: str = "agents", key: dict | None = None, **values: dict) -> None:
    """Change an item by hand (an operator's edit, a bug of the past), under the application's feet."""
    import boto3

    names = {f"#{n}": name for n, name in enumerate(values)}
    boto3.client("dynamodb").update_item(
        TableName=f"switchboard-test-{table}",
        Key=key or {"tenant_id": {"S": tenant["tenant_id"]}, "agent_id": {"S": agent_id}},
        UpdateExpression="SET " + ", ".join(f"#{n} = :{n}" for n in range(len(values))),
        ExpressionAttributeNames=names,
        ExpressionAttributeValues={f":{n}": value for n, value in enumerate(values.values())})


def roster_sorts(tenant: dict, agent_id: str) -> set[str | None]:
    from chalicelib.storage.agents import RosterModel

    agent_record = AgentModel.get(tenant["tenant_id"], agent_id)
    return {RosterModel.get(f"{tenant['tenant_id']}#{team}", agent_id).available_sort
            for team in [*agent_record.teams, "*", f"tier:{int(agent_record.tier)}"]}


NOTHING_TO_DO = {"loads_repaired": 0, "rosters_repaired": 0, "left_for_next_run": 0}


def test_reconcile_finds_nothing_to_repair_after_ordinary_work(api: Api, tenant: dict, clock):
    held_chat(api, tenant)
    clock.advance(61)
    before = without_rate_limits(all_items())
    assert run_job("reconcile-capacity") == {"agents_checked": 1, **NOTHING_TO_DO}
    assert without_rate_limits(all_items()) == before


@pytest.mark.parametrize("drifted_load", [0, 3])
def test_reconcile_repairs_a_drifted_load_reports_it_and_a_second_run_changes_nothing(
        api: Api, tenant: dict, clock, caplog, drifted_load: int):
    from tests.helpers import audit_events

    sam, sam_id, _ = held_chat(api, tenant)
    drift(tenant, sam_id, load={"N": str(drifted_load)})
    clock.advance(61)  # past the settle period after sam's assignment
    with caplog.at_level("WARNING", logger="switchboard.reconcile"):
        # Only the load drifted: the roster still says what the conversations held say.
        assert run_job("reconcile-capacity") == {"agents_checked": 1, "loads_repaired": 1, "rosters_repaired": 0,
                                                 "left_for_next_run": 0}
    assert AgentModel.get(tenant["tenant_id"], sam_id).load == 1
    assert_capacity_matches_what_is_held(tenant["tenant_id"])
    assert any(f"load {drifted_load} -> 1" in r.getMessage() for r in caplog.records)
    [event] = audit_events(tenant["tenant_id"], "capacity.repaired")
    assert event["target"] == sam_id and event["actor"] == {"kind": "system", "id": "reconcile-capacity"}
    assert event["details"] == {"load_before": drifted_load, "load_after": 1, "roster_rewritten": False}
    assert {sort.split("#")[0] for sort in roster_sorts(tenant, sam_id)} == {"01"}
    # A duplicated scheduled event (or the next run) finds nothing left to do.
    before = without_rate_limits(all_items())
    assert run_job("reconcile-capacity") == {"agents_checked": 1, **NOTHING_TO_DO}
    assert without_rate_limits(all_items()) == before


def test_reconcile_rewrites_a_stale_roster_so_routing_reaches_the_agent_again(api: Api, tenant: dict, clock):
    sam, sam_id, _ = held_chat(api, tenant)
    for team in ("*", "tier:1"):  # as a presence change racing a close could have left it: "full"
        drift(tenant, sam_id, table="roster", key={"team_key": {"S": f"{tenant['tenant_id']}#{team}"},
                                                   "agent_id": {"S": sam_id}}, available_sort={"NULL": True})
    clock.advance(61)
    assert run_job("reconcile-capacity") == {"agents_checked": 1, "loads_repaired": 0, "rosters_repaired": 1,
                                             "left_for_next_run": 0}
    opened(api, tenant)
    assert len(sam.of_type("conversation.assigned")) == 1


def test_reconcile_leaves_an_agent_who_just_took_a_chat_for_the_next_run(api: Api, tenant: dict, clock):
    _, sam_id, _ = held_chat(api, tenant)
    drift(tenant, sam_id, load={"N": "2"})
    before = without_rate_limits(all_items())
    assert run_job("reconcile-capacity") == {"agents_checked": 1, "loads_repaired": 0, "rosters_repaired": 0,
                                             "left_for_next_run": 1}
    assert without_rate_limits(all_items()) == before


def _dynamodb_reads(monkeypatch) -> Counter:
    """Every DynamoDB request from here on ("dynamodb.Query", ...) and the items they read ("items read":
    a Query's or Scan's ScannedCount, which counts what a filter then drops; one a GetItem)."""
    counted: Counter = Counter()
    moto_call = BotocoreStubber.__call__

    def call(self, event_name, request, **kwargs):
        response = moto_call(self, event_name, request, **kwargs)
        if event_name.startswith("before-send.dynamodb."):
            operation = event_name.rsplit(".", 1)[1]
            counted[f"dynamodb.{operation}"] += 1
            if operation in ("Query", "Scan"):
                counted["items read"] += json.loads(response.content).get("ScannedCount", 0)
            elif operation == "GetItem":
                counted["items read"] += 1
        return response

    monkeypatch.setattr(BotocoreStubber, "__call__", call)
    return counted


def _closed_history(tenant: dict, agent_id: str, conversations: int) -> None:
    """Conversations the agent once held, all closed long ago."""
    from datetime import datetime

    long_ago = datetime(2020, 1, 1, tzinfo=UTC)
    tenant_id = tenant["tenant_id"]
    for n in range(conversations):
        ConversationModel(tenant_id, f"c_past{n:05d}", visitor_id=f"v_past{n}", visitor_key=f"{tenant_id}#v_past{n}",
                          status="closed", agent_id=agent_id, agent_key=f"{tenant_id}#{agent_id}",
                          created_at=long_ago, closed_at=long_ago).save()


def test_reconcile_reads_what_an_agent_holds_not_everything_they_ever_held(api: Api, tenant: dict, clock,
                                                                           monkeypatch):
    _, sam_id, _ = held_chat(api, tenant)
    clock.advance(61)
    counted = _dynamodb_reads(monkeypatch)
    assert run_job("reconcile-capacity") == {"agents_checked": 1, **NOTHING_TO_DO}
    with_one_held = dict(counted)
    _closed_history(tenant, sam_id, 50)
    counted.clear()
    assert run_job("reconcile-capacity") == {"agents_checked": 1, **NOTHING_TO_DO}
    assert dict(counted) == with_one_held  # the same requests reading the same number of items


def test_a_repair_never_overwrites_a_live_assignment(api: Api, tenant: dict, clock):
    from chalicelib.conversations import reconcile

    sam, sam_id, _ = held_chat(api, tenant)
    as_read = AgentModel.get(tenant["tenant_id"], sam_id, consistent_read=True)
    held = reconcile._held(as_read)
    opened(api, tenant)  # meanwhile routing gives sam a second chat
    assert reconcile._repair(as_read, held) is False
    assert AgentModel.get(tenant["tenant_id"], sam_id).load == 2
    assert_capacity_matches_what_is_held(tenant["tenant_id"])


# --- A scheduled event delivered twice -----------------------------------------------------------
def frames_of(*parties: Party) -> list[list[dict]]:
    return [party.new_frames() for party in parties]


def test_every_job_run_twice_on_the_same_event_does_its_work_once(api: Api, tenant: dict, clock):
    api.call("PUT", "/v1/settings", {"survey_delay_seconds": 0, "retention_days": 1}, token=tenant["admin_token"])
    sam, sam_id, unanswered = held_chat(api, tenant)  # sam never answers: reroute-stale's work
    kim = agent(api, tenant, "kim@acme.com")
    kim.send(action="presence.set", status="online")
    vera, closed = opened(api, tenant)
    kim.send(action="message.send", conversation_id=closed, client_msg_id="k1", text="hi")
    kim.send(action="conversation.close", conversation_id=closed, resolution="resolved")  # a survey due
    drift(tenant, sam_id, load={"N": "3"})  # reconcile-capacity's work
    clock.advance(2 * 86400)  # the survey and the retention are due, sam's reply is long overdue
    work = {"reroute-stale": "unanswered_requeued", "send-surveys": "websocket", "retention": "shredded",
            "audit-verify": "digests_signed", "reconcile-capacity": "loads_repaired"}
    for job, done in work.items():
        first = run_job(job)
        frames_of(sam, kim, vera)
        after_first = without_rate_limits(all_items())
        second = run_job(job)
        assert (first[done], second[done]) == (1, 0), (job, first, second)
        assert without_rate_limits(all_items()) == after_first, job
        assert frames_of(sam, kim, vera) == [[], [], []], job
    assert ConversationModel.get(tenant["tenant_id"], unanswered).agent_id == kim_id(tenant)
    assert_capacity_matches_what_is_held(tenant["tenant_id"])


def kim_id(tenant: dict) -> str:
    [kim] = [a for a in AgentModel.query(tenant["tenant_id"]) if a.email == "kim@acme.com"]
    return kim.agent_id
