"""devstack.ws_gateway end to end: a real Chalice app, websockets clients and a boto3 client.

The app below answers through the Management API exactly as a deployed app would, so a handler
that ran on the gateway's event loop would deadlock these tests instead of passing them.
"""

from __future__ import annotations

import base64
import socket
import threading
from collections.abc import Callable, Iterator
from typing import Any
from urllib.parse import quote

import boto3
import pytest
import requests
from botocore.client import BaseClient
from chalice import Chalice, Response
from chalice.app import WebsocketEvent
from websockets.exceptions import ConnectionClosed, InvalidStatus
from websockets.sync.client import ClientConnection, connect

from devstack.ws_gateway import WebSocketGateway, chalice_websocket_handlers

Event = dict[str, Any]
WAIT = 5.0  # upper bound for anything that should happen "at once"


class Recorder:
    """The events the app's handlers received, and the Management API client they answer with."""

    def __init__(self) -> None:
        self.management: BaseClient | None = None
        self.release_slow_frame = threading.Event()
        self._events: list[Event] = []
        self._changed = threading.Condition()

    def reset(self, management: BaseClient) -> None:
        self.management = management
        self.release_slow_frame.clear()
        with self._changed:
            self._events.clear()

    def record(self, event: Event) -> None:
        with self._changed:
            self._events.append(event)
            self._changed.notify_all()

    def events(self, route_key: str) -> list[Event]:
        with self._changed:
            return [e for e in self._events if e["requestContext"]["routeKey"] == route_key]

    def wait_for(self, route_key: str, connection_id: str | None = None) -> Event:
        """The first event of route_key (for connection_id if given), waiting up to WAIT."""

        def find() -> Event | None:
            for event in self.events(route_key):
                if connection_id in (None, event["requestContext"]["connectionId"]):
                    return event
            return None

        with self._changed:
            found = self._changed.wait_for(find, WAIT)
        assert found is not None, f"no {route_key} event for {connection_id}"
        return found


RECORDER = Recorder()

app = Chalice("gw-test")
app.experimental_feature_flags.update(["WEBSOCKETS"])


@app.on_ws_connect()
def websocket_connect(event: WebsocketEvent) -> Response | None:
    raw = event.to_dict()
    RECORDER.record(raw)
    if not (raw["queryStringParameters"] or {}).get("token"):
        return Response(body="missing token", status_code=401)
    return None


@app.on_ws_message()
def websocket_message(event: WebsocketEvent) -> None:
    """Echo every frame back through post_to_connection; "boom" raises, "slow" waits."""
    raw = event.to_dict()
    RECORDER.record(raw)
    if event.body == "boom":
        raise ValueError("boom")
    if event.body == "slow":
        RECORDER.release_slow_frame.wait(WAIT)
    data = base64.b64decode(event.body) if raw["isBase64Encoded"] else event.body.encode()
    assert RECORDER.management is not None
    RECORDER.management.post_to_connection(ConnectionId=event.connection_id, Data=data)


@app.on_ws_disconnect()
def websocket_disconnect(event: WebsocketEvent) -> None:
    RECORDER.record(event.to_dict())


# --- Fixtures and helpers -------------------------------------------------------------------


class LogLines(list[str]):
    """The gateway's log lines; a test waits for one (the gateway logs a management call after answering it)."""

    def __init__(self) -> None:
        super().__init__()
        self._changed = threading.Condition()

    def append(self, line: str) -> None:
        with self._changed:
            super().append(line)
            self._changed.notify_all()

    def wait_for(self, prefix: str) -> bool:
        with self._changed:
            return self._changed.wait_for(lambda: any(line.startswith(prefix) for line in self), WAIT)


@pytest.fixture
def logs() -> LogLines:
    return LogLines()


@pytest.fixture
def start_gateway(
    monkeypatch: pytest.MonkeyPatch, logs: list[str]
) -> Iterator[Callable[..., WebSocketGateway]]:
    """Start a gateway on free ports for the test app (options override the defaults)."""
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")  # Chalice's handler wrapper needs one
    monkeypatch.setenv("NO_PROXY", "127.0.0.1")  # a developer's proxy must not see local calls
    started: list[WebSocketGateway] = []

    def start(**options: Any) -> WebSocketGateway:
        options = {"port": 0, "management_port": 0, "log": logs.append, **options}
        gateway = WebSocketGateway(chalice_websocket_handlers(app), **options)
        started.append(gateway)
        gateway.start()
        RECORDER.reset(management_client(gateway))
        return gateway

    yield start
    for gateway in started:
        gateway.stop()


@pytest.fixture
def gateway(start_gateway: Callable[..., WebSocketGateway]) -> WebSocketGateway:
    return start_gateway()


@pytest.fixture
def management(gateway: WebSocketGateway) -> BaseClient:
    return management_client(gateway)


def management_client(gateway: WebSocketGateway) -> BaseClient:
    return boto3.client(
        "apigatewaymanagementapi",
        endpoint_url=gateway.management_endpoint,
        region_name="us-east-1",
    )


def open_client(
    gateway: WebSocketGateway, query: str = "token=t", **options: Any
) -> ClientConnection:
    return connect(f"{gateway.ws_url}/?{query}", proxy=None, open_timeout=WAIT, **options)


def open_registered_client(gateway: WebSocketGateway, token: str) -> tuple[ClientConnection, str]:
    """A connected client and its connection id, read from the $connect event for its token."""
    client = open_client(gateway, f"token={token}")
    for event in RECORDER.events("$connect"):
        if event["queryStringParameters"]["token"] == token:
            return client, event["requestContext"]["connectionId"]
    raise AssertionError(f"no $connect event for token {token}")


def close_status(client: ClientConnection) -> tuple[int, str]:
    """Wait for the server to close the connection; the close frame it sent."""
    with pytest.raises(ConnectionClosed) as closed:
        client.recv(timeout=WAIT)
    assert closed.value.rcvd is not None
    return closed.value.rcvd.code, closed.value.rcvd.reason


# --- Tests ----------------------------------------------------------------------------------


def test_echo_round_trip_through_post_to_connection(
    gateway: WebSocketGateway, logs: LogLines
) -> None:
    with open_client(gateway) as client:
        client.send("secret chat text")
        assert client.recv(timeout=WAIT) == "secret chat text"

    message = RECORDER.wait_for("$default")
    assert message["body"] == "secret chat text"
    assert message["isBase64Encoded"] is False
    context = message["requestContext"]
    assert context["eventType"] == "MESSAGE"
    assert context["messageDirection"] == "IN"
    assert context["messageId"]
    assert (context["stage"], context["apiId"]) == ("dev", "local")
    assert context["domainName"] == f"127.0.0.1:{gateway.port}"
    RECORDER.wait_for("$disconnect")
    assert logs.wait_for("ws POST @connections/")
    assert not any("secret" in line for line in logs), "chat text must never reach the logs"


def test_binary_frames_arrive_base64_encoded_and_go_back_binary(
    gateway: WebSocketGateway,
) -> None:
    with open_client(gateway) as client:
        client.send(b"\xff\x00binary")
        assert client.recv(timeout=WAIT) == b"\xff\x00binary"
    message = RECORDER.wait_for("$default")
    assert message["isBase64Encoded"] is True
    assert base64.b64decode(message["body"]) == b"\xff\x00binary"


def test_connect_without_token_is_refused_with_the_handlers_status(
    gateway: WebSocketGateway,
) -> None:
    with pytest.raises(InvalidStatus) as refused:
        open_client(gateway, query="")
    assert refused.value.response.status_code == 401
    assert refused.value.response.body == b"missing token"
    assert RECORDER.wait_for("$connect")["queryStringParameters"] is None
    assert gateway.connection_count() == 0
    assert RECORDER.events("$disconnect") == [], "a refused connection never connected"


def test_connect_event_carries_query_and_handshake_headers(gateway: WebSocketGateway) -> None:
    with open_client(gateway, "token=abc&room=1&room=2", origin="http://app.example"):
        pass
    event = RECORDER.wait_for("$connect")
    assert event["queryStringParameters"] == {"token": "abc", "room": "2"}
    assert event["multiValueQueryStringParameters"] == {"token": ["abc"], "room": ["1", "2"]}
    assert event["headers"]["Origin"] == "http://app.example"
    assert event["multiValueHeaders"]["Origin"] == ["http://app.example"]
    context = event["requestContext"]
    assert (context["routeKey"], context["eventType"]) == ("$connect", "CONNECT")
    assert context["identity"]["sourceIp"] == "127.0.0.1"
    assert context["connectionId"].endswith("=")


def test_frames_of_one_connection_are_handled_in_order(gateway: WebSocketGateway) -> None:
    frames = [f"frame {n}" for n in range(50)]
    with open_client(gateway) as client:
        for frame in frames:
            client.send(frame)
        assert [client.recv(timeout=WAIT) for _ in frames] == frames


def test_connections_are_handled_concurrently(gateway: WebSocketGateway) -> None:
    with open_client(gateway) as blocked, open_client(gateway) as other:
        blocked.send("slow")
        other.send("fast")
        assert other.recv(timeout=WAIT) == "fast"
        RECORDER.release_slow_frame.set()
        assert blocked.recv(timeout=WAIT) == "slow"


def test_handler_exception_keeps_the_connection_open(
    gateway: WebSocketGateway, logs: list[str]
) -> None:
    with open_client(gateway) as client:
        client.send("boom")
        client.send("still here")
        assert client.recv(timeout=WAIT) == "still here"
    assert any("failed: ValueError: boom" in line for line in logs)


def test_oversized_frame_closes_with_1009(gateway: WebSocketGateway) -> None:
    client, connection_id = open_registered_client(gateway, "big")
    with client:
        client.send("x" * (32 * 1024 + 1))
        assert close_status(client)[0] == 1009
    disconnect = RECORDER.wait_for("$disconnect", connection_id)
    assert disconnect["requestContext"]["disconnectStatusCode"] == 1009


@pytest.mark.parametrize(
    "limits", [{"idle_timeout": 0.5}, {"max_lifetime": 0.5}], ids=["idle", "lifetime"]
)
def test_expired_connection_is_closed_with_1001(
    start_gateway: Callable[..., WebSocketGateway], limits: dict[str, float]
) -> None:
    gateway = start_gateway(**limits)
    client, connection_id = open_registered_client(gateway, "sleepy")
    with client:
        assert close_status(client) == (1001, "Going away")
    disconnect = RECORDER.wait_for("$disconnect", connection_id)["requestContext"]
    assert disconnect["disconnectStatusCode"] == 1001
    assert disconnect["disconnectReason"] == "Going away"


def test_get_and_delete_connection(gateway: WebSocketGateway, management: BaseClient) -> None:
    client, connection_id = open_registered_client(gateway, "alice")
    with client:
        described = management.get_connection(ConnectionId=connection_id)
        assert described["Identity"]["SourceIp"] == "127.0.0.1"
        assert described["Identity"]["UserAgent"].startswith("Python/")
        assert described["LastActiveAt"] >= described["ConnectedAt"]

        management.delete_connection(ConnectionId=connection_id)
        assert close_status(client)[0] == 1000
    disconnect = RECORDER.wait_for("$disconnect", connection_id)
    assert disconnect["requestContext"]["disconnectStatusCode"] == 1000
    with pytest.raises(management.exceptions.GoneException):
        management.get_connection(ConnectionId=connection_id)


def test_unknown_connection_is_gone(management: BaseClient) -> None:
    with pytest.raises(management.exceptions.GoneException):
        management.post_to_connection(ConnectionId="nobody+/x=", Data=b"hello")


def test_oversized_post_is_refused(gateway: WebSocketGateway, management: BaseClient) -> None:
    client, connection_id = open_registered_client(gateway, "bob")
    with client, pytest.raises(management.exceptions.PayloadTooLargeException):
        management.post_to_connection(ConnectionId=connection_id, Data=b"x" * (128 * 1024 + 1))


def test_management_paths_with_and_without_stage(gateway: WebSocketGateway) -> None:
    client, connection_id = open_registered_client(gateway, "carol")
    base = f"http://127.0.0.1:{gateway.management_port}"
    encoded = quote(connection_id, safe="")
    with client:
        assert requests.get(f"{base}/@connections/{encoded}", timeout=WAIT).status_code == 200
        assert requests.get(f"{base}/dev/@connections/{encoded}", timeout=WAIT).status_code == 200
        not_found = requests.get(f"{base}/dev/elsewhere", timeout=WAIT)
        assert (not_found.status_code, "message" in not_found.json()) == (404, True)
        assert requests.put(f"{base}/dev/@connections/{encoded}", timeout=WAIT).status_code == 405


def test_stop_disconnects_everyone_and_releases_ports(
    start_gateway: Callable[..., WebSocketGateway],
) -> None:
    threads_before = set(threading.enumerate())
    gateway = start_gateway()
    first, first_id = open_registered_client(gateway, "first")
    second, second_id = open_registered_client(gateway, "second")
    assert gateway.connection_count() == 2

    gateway.stop()
    gateway.stop()  # idempotent

    for client, connection_id in ((first, first_id), (second, second_id)):
        with client:
            assert close_status(client)[0] == 1001
        disconnect = RECORDER.wait_for("$disconnect", connection_id)
        assert disconnect["requestContext"]["disconnectStatusCode"] == 1001
    # Each once; counted by connection id, since a loaded machine may deliver an earlier test's late event.
    ours = [e for e in RECORDER.events("$disconnect") if e["requestContext"]["connectionId"] in (first_id, second_id)]
    assert len(ours) == 2
    for port in (gateway.port, gateway.management_port):
        with pytest.raises(ConnectionRefusedError):
            socket.create_connection(("127.0.0.1", port), timeout=WAIT)
    assert set(threading.enumerate()) <= threads_before


def test_failed_start_leaves_nothing_behind(
    start_gateway: Callable[..., WebSocketGateway],
) -> None:
    taken = start_gateway()
    threads_before = set(threading.enumerate())
    with pytest.raises(OSError):
        start_gateway(management_port=taken.management_port)
    assert set(threading.enumerate()) <= threads_before
