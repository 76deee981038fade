"""Test helpers: a clock tests can move, JSON requests, and raw views of the tables."""
from __future__ import annotations

import itertools
import json
import time
from contextlib import contextmanager
from typing import Any, Iterator
from urllib.parse import quote

import boto3

from chalicelib.clock import Clock


class MovableClock(Clock):
    def __init__(self) -> None:
        self.offset = 0.0

    def now(self) -> float:
        return super().now() + self.offset

    def advance(self, seconds: float) -> None:
        self.offset += seconds


class FrozenClock(MovableClock):
    """Time stands still unless the test moves it: a window never ends in the middle of a test."""

    def __init__(self) -> None:
        super().__init__()
        self.frozen_at = time.time()

    def now(self) -> float:
        return self.frozen_at + self.offset


class Api:
    """JSON over chalice.test.Client with the contract's bearer auth."""

    def __init__(self, client: Any) -> None:
        self.client = client

    def call(self, method: str, path: str, body: Any = None, token: str | None = None,
             raw: bytes | str | None = None, headers: dict[str, str] | None = None) -> Any:
        all_headers = {"Content-Type": "application/json", **(headers or {})}
        if token:
            all_headers["Authorization"] = f"Bearer {token}"
        payload = raw if raw is not None else (json.dumps(body) if body is not None else None)
        return getattr(self.client.http, method.lower())(path, headers=all_headers, body=payload)

    def signup(self, name: str = "Acme", email: str = "admin@acme.com",
               password: str = "correct horse battery") -> dict[str, Any]:
        response = self.call("POST", "/v1/tenants",
                             {"name": name, "admin_email": email, "admin_password": password})
        assert response.status_code == 201, response.body
        return response.json_body

    def login(self, tenant_id: str, email: str, password: str = "correct horse battery") -> str:
        response = self.call("POST", "/v1/auth/login",
                             {"tenant_id": tenant_id, "email": email, "password": password})
        assert response.status_code == 200, response.body
        return response.json_body["token"]

    def add_agent(self, admin_token: str, email: str, role: str = "agent",
                  password: str = "correct horse battery", **extra: Any) -> dict[str, Any]:
        body = {"email": email, "name": email.split("@")[0].title(), "password": password,
                "role": role, **extra}
        response = self.call("POST", "/v1/agents", body, token=admin_token)
        assert response.status_code == 201, response.body
        return response.json_body


def use_limits(**limits: int) -> None:
    """This test's Lambda container runs with other limits (Config fields), as their variables would set."""
    from dataclasses import replace

    from chalicelib.runtime import runtime

    runtime().config = replace(runtime().config, **limits)


def all_items() -> dict[str, list[dict[str, Any]]]:
    """Every raw item of every table, through plain boto3."""
    ddb = boto3.client("dynamodb")
    items: dict[str, list[dict[str, Any]]] = {}
    for table in ddb.list_tables()["TableNames"]:
        items[table] = [item for page in ddb.get_paginator("scan").paginate(TableName=table)
                        for item in page["Items"]]
    return items


def without_rate_limits(items: dict[str, list[dict[str, Any]]]) -> dict[str, list[dict[str, Any]]]:
    """Rate-limit counters count refused requests too; everything else must not change. (Connection
    records count every frame in frame_window and frame_0..frame_6.)"""
    return {table: [{k: v for k, v in row.items() if not k.startswith("frame_")} for row in rows]
            if table.endswith("-connections") else rows
            for table, rows in items.items() if not table.endswith("-rate-limits")}


def frames_sent(connection_id: str) -> list[dict[str, Any]]:
    """Frames posted to one connection through moto's API Gateway Management API."""
    from moto.apigatewaymanagementapi.models import apigatewaymanagementapi_backends

    # moto keys connections by the path segment as sent, still percent-encoded.
    backend = apigatewaymanagementapi_backends["123456789012"]["us-east-1"]
    data = backend.connections[quote(connection_id, safe="")].data
    text, frames, decoder, at = data.decode(), [], json.JSONDecoder(), 0
    while at < len(text):
        frame, at = decoder.raw_decode(text, at)
        frames.append(frame)
    return frames


def ws_event(route: str, connection_id: str, body: str | None = None,
             query: dict[str, str] | None = None, headers: dict[str, str] | None = None) -> dict[str, Any]:
    """An API Gateway WebSocket proxy event, as Lambda receives it ($connect carries the
    handshake's headers, names in whatever case the client sent them)."""
    event_type = {"$connect": "CONNECT", "$disconnect": "DISCONNECT"}.get(route, "MESSAGE")
    event: dict[str, Any] = {
        "requestContext": {"routeKey": route, "eventType": event_type, "connectionId": connection_id,
                           "domainName": "test.execute-api.us-east-1.amazonaws.com", "stage": "dev",
                           "apiId": "test", "identity": {"sourceIp": "203.0.113.9"}},
        "isBase64Encoded": False,
    }
    if route == "$connect":
        event["queryStringParameters"] = query
        event["headers"] = {"Host": "test.execute-api.us-east-1.amazonaws.com", **(headers or {})}
        event["multiValueHeaders"] = {name: [value] for name, value in event["headers"].items()}
    if body is not None:
        event["body"] = body
    return event


_ids = itertools.count(1)


class Party:
    """One WebSocket connection of an agent or visitor, driven through the Lambda handlers."""

    def __init__(self, token: str, headers: dict[str, str] | None = None) -> None:
        import app as app_module

        self.connection_id = f"conn{next(_ids)}="
        assert app_module.websocket_connect(ws_event("$connect", self.connection_id, query={"token": token},
                                                     headers=headers), None)["statusCode"] == 200
        self.seen = 0

    def send(self, **frame) -> None:
        import app as app_module

        app_module.websocket_message(ws_event("$default", self.connection_id, body=json.dumps(frame)), None)

    def new_frames(self) -> list[dict]:
        frames = frames_sent(self.connection_id)
        fresh, self.seen = frames[self.seen:], len(frames)
        return fresh

    def of_type(self, kind: str) -> list[dict]:
        return [frame for frame in self.new_frames() if frame["type"] == kind]


def visitor(api: Api, tenant: dict, **profile) -> Party:
    session = api.call("POST", f"/v1/widget/{tenant['widget_key']}/sessions", profile).json_body
    return Party(session["visitor_token"])


def agent(api: Api, tenant: dict, email: str, **extra) -> Party:
    api.add_agent(tenant["admin_token"], email, **extra)
    return Party(api.login(tenant["tenant_id"], email))


def audit_events(tenant_id: str, action: str | None = None) -> list[dict[str, Any]]:
    """The tenant's audit chain as exported, optionally only one action."""
    from chalicelib.storage.audit import AuditEventModel

    events = [item.as_event() for item in AuditEventModel.query(tenant_id, consistent_read=True)]
    return [event for event in events if action is None or event["action"] == action]


def run_job(name: str) -> Any:
    """Run one of app.py's scheduled jobs as EventBridge would invoke its Lambda."""
    import app as app_module

    event = {"version": "0", "detail-type": "Scheduled Event", "source": "aws.events", "id": "1",
             "time": "2026-11-23T10:00:00Z", "region": "us-east-1", "account": "123456789012",
             "resources": [], "detail": {}}
    return getattr(app_module, name.replace("-", "_"))(event, None)


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
