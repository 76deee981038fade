"""Test helpers: a clock that stands still, limits per test, raw views of the tables, and the checks
several test modules share. What the benchmarks drive the app with too is in devstack/harness.py."""
from __future__ import annotations

import base64
import json
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from chalicelib.clock import Clock
from devstack.harness import Api, MovableClock
from tests.aws_state import ACCOUNT, REGION


class FrozenClock(MovableClock):
    """Time stands still unless the test moves it: a window never ends in the middle of a test."""

    def __init__(self) -> None:
        super().__init__()
        self.frozen_at = time.time()

    def now(self) -> float:
        return self.frozen_at + self.offset


@contextmanager
def in_process_aws(clock: Clock, session: Any) -> Iterator[None]:
    """The template's resources in moto, empty (tests/aws_state.py), and a fresh Lambda container on `clock`."""
    from chalicelib.runtime import Runtime, use_runtime
    from tests.aws_state import PROVISIONED

    with PROVISIONED.running(session):
        use_runtime(Runtime(clock=clock, session=session))
        try:
            yield
        finally:
            use_runtime(None)


@contextmanager
def module_tenant(session: Any) -> Iterator[tuple[Api, dict[str, Any], FrozenClock]]:
    """For a module-scoped fixture: one in-process AWS, the app and a signed-up tenant that several tests
    share, on a clock that moves only when a test moves it."""
    from chalice.test import Client

    from app import app

    clock = FrozenClock()
    with in_process_aws(clock, session), Client(app) as client:
        api = Api(client)
        yield api, signed_up(api), clock


def signed_up(api: Api) -> dict[str, Any]:
    """A signed-up tenant (admin@acme.com) and its admin's session token."""
    signed = api.signup()
    signed["admin_token"] = api.login(signed["tenant_id"], "admin@acme.com")
    return signed


@contextmanager
def counted_requests() -> Iterator[list[str]]:
    """Every AWS request made in the block, in order, as "service.Operation" (counted where moto answers them)."""
    from moto.core.botocore_stubber import BotocoreStubber

    seen: list[str] = []
    moto_call = BotocoreStubber.__call__

    def call(self: Any, event_name: str, request: Any, **kwargs: Any) -> Any:
        if event_name.startswith("before-send."):
            seen.append(".".join(event_name.split(".")[1:3]))
        return moto_call(self, event_name, request, **kwargs)

    BotocoreStubber.__call__ = call
    try:
        yield seen
    finally:
        BotocoreStubber.__call__ = moto_call


def use_limits(**limits: int) -> None:
    """This test's Lambda container runs with other limits (Config fields), as their variables would set."""
    from dataclasses import replace

    from chalicelib.runtime import runtime

    runtime().config = replace(runtime().config, **limits)


def all_items() -> dict[str, list[dict[str, Any]]]:
    """Every raw item of every table as a Scan returns it through boto3 (binary values as bytes).

    Read from the in-process moto's tables in the JSON its Scan answers with: a Scan of every table
    through boto3 cost a quarter of a second, and the checks that nothing was written make two a test."""
    from moto.dynamodb.models import dynamodb_backends
    from moto.dynamodb.models.utilities import dynamo_json_dump

    tables = dynamodb_backends[ACCOUNT][REGION].tables
    return {name: [_as_boto3(json.loads(dynamo_json_dump(item.to_json()["Attributes"])))
                   for item in table.all_items()]
            for name, table in tables.items()}


def _as_boto3(value: Any) -> Any:
    """DynamoDB's wire JSON as botocore parses it: "B" and "BS" values base64-decoded, the rest as is."""
    if isinstance(value, list):
        return [_as_boto3(element) for element in value]
    if not isinstance(value, dict):
        return value
    if len(value) == 1 and "B" in value:
        return {"B": base64.b64decode(value["B"])}
    if len(value) == 1 and "BS" in value:
        return {"BS": [base64.b64decode(element) for element in value["BS"]]}
    return {key: _as_boto3(element) for key, element in value.items()}


def without_rate_limits(items: dict[str, list[dict[str, Any]]]) -> dict[str, list[dict[str, Any]]]:
    """Rate-limit counters count refused requests too; everything else must not change. (Connection
    records count every frame in frame_window and frame_0..frame_6.)"""
    return {table: [{k: v for k, v in row.items() if not k.startswith("frame_")} for row in rows]
            if table.endswith("-connections") else rows
            for table, rows in items.items() if not table.endswith("-rate-limits")}


def audit_events(tenant_id: str, action: str | None = None) -> list[dict[str, Any]]:
    """The tenant's audit chain as exported, optionally only one action."""
    from chalicelib.storage.audit import AuditEventModel

    events = [item.as_event() for item in AuditEventModel.query(tenant_id, consistent_read=True)]
    return [event for event in events if action is None or event["action"] == action]


def sns_event(message: str, topic: str = "switchboard-test-mail-feedback") -> dict[str, Any]:
    """An SNS notification as Lambda receives it (one record), carrying `message` (an SES event)."""
    return {"Records": [{"EventSource": "aws:sns", "EventVersion": "1.0",
                         "EventSubscriptionArn": f"arn:aws:sns:us-east-1:123456789012:{topic}:1",
                         "Sns": {"Type": "Notification", "MessageId": "1", "Subject": None, "Message": message,
                                 "TopicArn": f"arn:aws:sns:us-east-1:123456789012:{topic}",
                                 "Timestamp": "2026-11-23T10:00:00.000Z", "MessageAttributes": {}}}]}


@contextmanager
def from_source(address: str) -> Iterator[None]:
    """Requests through chalice.test.Client come from `address` (API Gateway's identity.sourceIp)."""
    from chalice.local import LambdaEventConverter

    kept = LambdaEventConverter.LOCAL_SOURCE_IP
    LambdaEventConverter.LOCAL_SOURCE_IP = address
    try:
        yield
    finally:
        LambdaEventConverter.LOCAL_SOURCE_IP = kept


def error_of(response) -> dict:
    """The contract's error object of a REST answer, checked for its shape."""
    body = response.json_body
    assert set(body) == {"error"}, body
    assert isinstance(body["error"]["code"], str) and body["error"]["message"]
    return body["error"]


def header(response, name: str) -> str | None:
    """A header of an answer (chalice.test's, or chalice.local's dict), whatever the case of its name."""
    headers = response["headers"] if isinstance(response, dict) else response.headers
    return next((value for key, value in headers.items() if key.lower() == name.lower()), None)


def allow_origins(api: Api, tenant: dict, origins: list[str]) -> None:
    response = api.call("PUT", "/v1/settings", {"allowed_origins": origins}, token=tenant["admin_token"])
    assert response.status_code == 200, response.body


def me(api: Api, token: str) -> int:
    """GET /v1/me's status: whether `token` is still let in."""
    return api.call("GET", "/v1/me", token=token).status_code


def agent_id_of(tenant: dict, email: str) -> str:
    from chalicelib.storage.agents import AgentModel

    return next(a.agent_id for a in AgentModel.query(tenant["tenant_id"]) if a.email == email)
