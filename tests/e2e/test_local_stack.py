"""The local stack as `make dev` runs it: a subprocess on free ports, driven over real HTTP and
real WebSocket connections."""
from __future__ import annotations

import json
import os
import socket
import time

import boto3
import jwt
import pytest
import requests
from websockets.exceptions import ConnectionClosed, InvalidStatus
from websockets.sync.client import connect

from devstack.harness import RunningStack

pytestmark = pytest.mark.e2e


def test_make_dev_prints_where_everything_runs_and_a_demo_login(stack: RunningStack):
    printed = "".join(stack.output)
    for url in (stack.base, stack.ws, stack.aws, f"http://127.0.0.1:{stack.ports['OIDC']}"):  # OIDC: the test issuer
        assert url in printed
    assert "admin@example.com" in printed and "widget key" in printed
    demo_tenant = next(line.split()[2] for line in stack.output if line.startswith("Demo tenant"))
    login = stack.post("/v1/auth/login", {"tenant_id": demo_tenant, "email": "alex@example.com",
                                          "password": "switchboard-demo"})
    assert login.status_code == 200 and login.json()["agent"]["role"] == "agent"


def test_health_and_real_tables_on_the_embedded_aws(stack: RunningStack):
    assert requests.get(stack.base + "/health", timeout=5).json() == {"status": "ok"}
    ddb = boto3.client("dynamodb", endpoint_url=stack.aws, region_name="us-east-1",
                       aws_access_key_id="x", aws_secret_access_key="x")
    tables = ddb.list_tables()["TableNames"]
    assert "switchboard-dev-tenants" in tables and "switchboard-dev-connections" in tables


def test_signup_login_and_both_parties_connect(stack: RunningStack, tenant: dict):
    assert tenant["ws_url"] == stack.ws and tenant["visitor"]["ws_url"] == stack.ws
    for token in (tenant["token"], tenant["visitor"]["visitor_token"]):
        with connect(f"{stack.ws}/?token={token}", open_timeout=10) as ws:
            ws.send(json.dumps({"action": "ping"}))
            assert json.loads(ws.recv(timeout=10)) == {"type": "pong"}


@pytest.mark.parametrize("query", ["", "?token=", "?token=garbage"])
def test_missing_or_bad_token_is_refused_at_connect(stack: RunningStack, query: str):
    with pytest.raises(InvalidStatus) as refused:
        connect(f"{stack.ws}/{query}", open_timeout=10)
    assert refused.value.response.status_code == 401


def test_expired_token_is_refused_at_connect(stack: RunningStack, tenant: dict):
    # Sign a token with the stack's own key (from the embedded Secrets Manager), already expired.
    secrets = boto3.client("secretsmanager", endpoint_url=stack.aws, region_name="us-east-1",
                           aws_access_key_id="x", aws_secret_access_key="x")
    key = secrets.get_secret_value(SecretId="switchboard-dev/token-signing")["SecretString"]
    claims = jwt.decode(tenant["visitor"]["visitor_token"], options={"verify_signature": False})
    assert jwt.decode(tenant["visitor"]["visitor_token"], key, algorithms=["HS256"], audience="visitor")
    expired = jwt.encode({**claims, "iat": int(time.time()) - 100, "exp": int(time.time()) - 10}, key,
                         algorithm="HS256")
    with pytest.raises(InvalidStatus) as refused:
        connect(f"{stack.ws}/?token={expired}", open_timeout=10)
    assert refused.value.response.status_code == 401


def test_bad_frames_get_error_frames_and_the_connection_stays(stack: RunningStack, tenant: dict):
    with connect(f"{stack.ws}/?token={tenant['token']}", open_timeout=10) as ws:
        for frame, code in [("{oops", "invalid_json"), ('{"action": "dance"}', "unknown_action"),
                            ('{"action": "typing", "conversation_id": 5, "state": "on"}', "invalid_frame")]:
            ws.send(frame)
            reply = json.loads(ws.recv(timeout=10))
            assert reply["type"] == "error" and reply["code"] == code, reply
        ws.send(json.dumps({"action": "ping"}))
        assert json.loads(ws.recv(timeout=10)) == {"type": "pong"}


def test_a_frame_over_32_kib_closes_with_1009(stack: RunningStack, tenant: dict):
    with connect(f"{stack.ws}/?token={tenant['token']}", open_timeout=10, max_size=None) as ws:
        ws.send("x" * (32 * 1024 + 1))
        with pytest.raises(ConnectionClosed) as closed:
            ws.recv(timeout=10)
    assert closed.value.rcvd.code == 1009


def test_rest_errors_through_real_http(stack: RunningStack, tenant: dict):
    malformed = requests.post(stack.base + "/v1/tenants", data="{nope",
                              headers={"Content-Type": "application/json"}, timeout=10)
    assert malformed.status_code == 400 and malformed.json()["error"]["code"] == "invalid_input"
    missing = requests.get(stack.base + "/v1/nothing-here", timeout=10)
    assert missing.status_code == 404 and missing.json()["error"]["code"] == "not_found"
    no_auth = requests.get(stack.base + "/v1/me", timeout=10)
    assert no_auth.status_code == 401 and no_auth.json()["error"]["code"] == "unauthorized"


def test_dev_jobs_lists_the_scheduled_jobs(stack: RunningStack):
    listed = requests.get(stack.base + "/dev/jobs", timeout=10).json()["jobs"]
    assert {"name": "reroute-stale", "schedule": "rate(1 minute)"}.items() <= listed[0].items()
    assert requests.post(stack.base + "/dev/jobs/no-such-job", timeout=10).status_code == 404


def _embedded_aws(stack: RunningStack) -> int:
    """The pid of the stack's embedded AWS: the one child process it runs (`python -m devstack.aws`)."""
    children = [int(pid) for pid in os.listdir("/proc") if pid.isdigit() and _parent(int(pid)) == stack.process.pid]
    assert len(children) == 1, children
    with open(f"/proc/{children[0]}/cmdline", "rb") as cmdline:
        assert b"devstack.aws" in cmdline.read()
    return children[0]


def _stat(pid: int) -> list[str] | None:
    """/proc/PID/stat after the command name ([0] the state, [1] the parent); None once the process is gone."""
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().rpartition(")")[2].split()
    except (FileNotFoundError, ProcessLookupError):
        return None


def _parent(pid: int) -> int | None:
    stat = _stat(pid)
    return None if stat is None else int(stat[1])


def _ended(pid: int) -> bool:
    stat = _stat(pid)
    return stat is None or stat[0] == "Z"  # a zombie has ended; whether its new parent reaps it is not ours


def _ends_within(pid: int, seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while not _ended(pid) and time.monotonic() < deadline:
        time.sleep(0.1)
    return _ended(pid)


def test_ctrl_c_stops_everything():
    running = RunningStack()
    try:
        aws = _embedded_aws(running)
    finally:
        assert running.stop() == 0
    assert _stat(aws) is None  # stopped, and reaped, before the stack exited
    for port in running.ports.values():
        with socket.socket() as probe:
            # Free again for the next stack, which binds as every server in it does (and as the stack checks its
            # ports): with SO_REUSEADDR, so connections the stopped stack closed (TIME_WAIT) do not hold the port.
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            probe.bind(("127.0.0.1", port))


def test_a_killed_stack_leaves_no_embedded_aws_behind():
    running = RunningStack()
    try:
        aws = _embedded_aws(running)
    finally:
        running.process.kill()
        running.process.wait()
    # Its stdin was the stack's pipe: the AWS stops when that closes.
    assert _ends_within(aws, 15)
