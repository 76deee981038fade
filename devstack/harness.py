"""What drives Switchboard from outside, for the tests and the benchmarks alike.

In process: app.py's handlers on moto (the caller sets the environment and starts mock_aws first; see
tests/conftest.py and bench/inprocess.py): `Api` for REST through chalice.test.Client, `Party` for one
WebSocket connection through the Lambda handlers, `run_job` for the schedules, and a clock they can move.
Out of process: `RunningStack`, the local stack as `make dev` runs it (`python -m devstack`) on free ports.

app.py is imported where it is driven, not at the top: its models read their table names from the
environment when first imported, and importing this module must not fix them before the caller has set
it (bench/__main__.py does so at run time). Handlers are looked up on the module at each call, so
bench/inprocess.py's metered handlers are the ones run.
"""
from __future__ import annotations

import itertools
import json
import os
import random
import signal
import socket
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote

import requests

from chalicelib.clock import Clock

ROOT = Path(__file__).resolve().parents[1]
# Every account the harness creates has this password.
PASSWORD = "correct horse battery"


class MovableClock(Clock):
    def __init__(self) -> None:
        self.offset = 0.0

    def now(self) -> float:
        return super().now() + self.offset

    def advance(self, seconds: float) -> None:
        self.offset += seconds


# --- In process: app.py's handlers on moto ---------------------------------------------------------
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

    def signup(self, name: str = "Acme", email: str = "admin@acme.com", password: str = PASSWORD) -> dict[str, Any]:
        response = self.call("POST", "/v1/tenants",
                             {"name": name, "admin_email": email, "admin_password": password})
        assert response.status_code == 201, response.body
        return response.json_body

    def login(self, tenant_id: str, email: str, password: str = PASSWORD) -> str:
        response = self.call("POST", "/v1/auth/login",
                             {"tenant_id": tenant_id, "email": email, "password": password})
        assert response.status_code == 200, response.body
        return response.json_body["token"]

    def add_agent(self, admin_token: str, email: str, role: str = "agent",
                  password: str = PASSWORD, **extra: Any) -> dict[str, Any]:
        body = {"email": email, "name": email.split("@")[0].title(), "password": password,
                "role": role, **extra}
        response = self.call("POST", "/v1/agents", body, token=admin_token)
        assert response.status_code == 201, response.body
        return response.json_body


def widget_session(api: Api, tenant: dict, **body: Any) -> Any:
    """POST /v1/widget/{widget_key}/sessions with `body` (the visitor's profile), the answer as it is."""
    return api.call("POST", f"/v1/widget/{tenant['widget_key']}/sessions", body)


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


def connect(connection_id: str, token: str | None, headers: dict[str, str] | None = None) -> dict[str, Any]:
    """$connect with `token` in the query (none without one), as API Gateway invokes it; its answer."""
    import app as app_module

    query = {"token": token} if token is not None else None
    return app_module.websocket_connect(ws_event("$connect", connection_id, query=query, headers=headers), None)


def disconnect(connection_id: str) -> None:
    import app as app_module

    app_module.websocket_disconnect(ws_event("$disconnect", connection_id), None)


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


_ids = itertools.count(1)


class Party:
    """One WebSocket connection of an agent or visitor, driven through the Lambda handlers."""

    def __init__(self, token: str, headers: dict[str, str] | None = None) -> None:
        self.connection_id = f"conn{next(_ids)}="
        assert connect(self.connection_id, token, headers)["statusCode"] == 200
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
    return Party(widget_session(api, tenant, **profile).json_body["visitor_token"])


def agent(api: Api, tenant: dict, email: str, **extra) -> Party:
    api.add_agent(tenant["admin_token"], email, **extra)
    return Party(api.login(tenant["tenant_id"], email))


def run_job(name: str) -> Any:
    """Run one of app.py's scheduled jobs as EventBridge would invoke its Lambda."""
    import app as app_module

    event = {"version": "0", "detail-type": "Scheduled Event", "source": "aws.events", "id": "1",
             "time": "2026-11-23T10:00:00Z", "region": "us-east-1", "account": "123456789012",
             "resources": [], "detail": {}}
    return getattr(app_module, name.replace("-", "_"))(event, None)


def run_sweep(name: str) -> dict[str, Any]:
    """Run a sweep job (retention, send-surveys) until its pass finishes, as its schedule would over
    several runs when one run's budget does not cover it: the counts summed, and how many runs it took."""
    total: dict[str, Any] = {"runs": 0}
    while True:
        summary = run_job(name)
        total["runs"] += 1
        for key, value in summary.items():
            if key != "pass_finished":
                total[key] = total.get(key, 0) + value
        if summary["pass_finished"]:
            return total


# --- Out of process: the local stack ---------------------------------------------------------------
_LOWEST_PORT, _PORT_BLOCK = 10000, 2000


def _ports_to_pick() -> Iterator[int]:
    """Ports below the kernel's ephemeral range, one block per pytest-xdist worker, from a random start.

    A port the kernel hands out for `bind(0)` is free only until the next outgoing connection: the stack
    binds its servers one after another while it makes hundreds of connections to moto, and one of those
    took a picked port (EADDRINUSE in CI). Outgoing connections never use ports below the ephemeral range,
    and the per-worker blocks keep two workers from picking the same port."""
    try:
        ephemeral_low = int(Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split()[0])
    except (OSError, ValueError, IndexError):
        ephemeral_low = 49152  # the IANA range (macOS and others)
    worker = os.environ.get("PYTEST_XDIST_WORKER", "gw0")
    blocks = (ephemeral_low - _LOWEST_PORT) // _PORT_BLOCK
    start = _LOWEST_PORT + (int(worker.removeprefix("gw") or 0) % blocks) * _PORT_BLOCK
    offset = random.randrange(_PORT_BLOCK)  # another process on this machine (a bench) starts elsewhere
    return (start + (offset + step) % _PORT_BLOCK for step in itertools.count())


_port_candidates: Iterator[int] | None = None


def free_port() -> int:
    """A port nothing listens on and no outgoing connection will take (see _ports_to_pick)."""
    global _port_candidates
    if _port_candidates is None:
        _port_candidates = _ports_to_pick()
    for port in itertools.islice(_port_candidates, _PORT_BLOCK):
        with socket.socket() as probe:
            try:
                probe.bind(("127.0.0.1", port))
            except OSError:
                continue  # in use, or in TIME_WAIT from a stopped stack: take the next
            return port
    raise RuntimeError(f"no free port among {_PORT_BLOCK} tried")


class RunningStack:
    def __init__(self, **settings: str) -> None:
        """`settings`: more SWITCHBOARD_* variables for the stack (limits a test needs raised)."""
        self.ports = {name: free_port() for name in ("HTTP", "WS", "WS_MANAGEMENT", "AWS", "OIDC")}
        self.base = f"http://127.0.0.1:{self.ports['HTTP']}"
        self.ws = f"ws://127.0.0.1:{self.ports['WS']}"
        self.aws = f"http://127.0.0.1:{self.ports['AWS']}"
        env = {k: v for k, v in os.environ.items() if not k.startswith(("SWITCHBOARD_", "AWS_"))}
        env.update({f"SWITCHBOARD_{name}_PORT": str(port) for name, port in self.ports.items()})
        env["SWITCHBOARD_SCRYPT_N"] = str(2**10)  # as tests/conftest.py: hashing is not what these test
        env.update({f"SWITCHBOARD_{name}": value for name, value in settings.items()})
        self.output: list[str] = []
        self.process = subprocess.Popen([sys.executable, "-m", "devstack"], cwd=ROOT, env=env,
                                        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        for line in self.process.stdout:
            self.output.append(line)
            if "Ctrl-C stops everything" in line:
                # Keep reading: a full pipe would stall the stack, and tests read its log.
                threading.Thread(target=self._keep_reading, daemon=True).start()
                return
        raise RuntimeError("the local stack did not start:\n" + "".join(self.output))

    def _keep_reading(self) -> None:
        for line in self.process.stdout:
            self.output.append(line)

    def post(self, path: str, body: dict, token: str | None = None) -> requests.Response:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        return requests.post(self.base + path, json=body, headers=headers, timeout=30)

    def stop(self) -> int:
        self.process.send_signal(signal.SIGINT)
        try:
            return self.process.wait(timeout=30)
        finally:
            if self.process.poll() is None:
                self.process.kill()


def sign_up(stack: RunningStack, name: str = "E2E", admin_email: str = "admin@e2e.com") -> dict:
    """A tenant signed up through the public API: its admin's token and one visitor's session."""
    signed = stack.post("/v1/tenants", {"name": name, "admin_email": admin_email,
                                        "admin_password": PASSWORD}).json()
    login = stack.post("/v1/auth/login", {"tenant_id": signed["tenant_id"], "email": admin_email,
                                          "password": PASSWORD}).json()
    visitor = stack.post(f"/v1/widget/{signed['widget_key']}/sessions", {"name": "Vera"}).json()
    return {**signed, "token": login["token"], "ws_url": login["ws_url"], "visitor": visitor}
