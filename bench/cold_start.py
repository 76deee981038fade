"""Section 4, cold start.

Import: importing the Lambda entry point (app.py) in a fresh interpreter, as a ratio to importing boto3
alone. Each figure is the median wall time of `python -c "import X"` minus the median of `python -c pass`
(the interpreter's own start), runs interleaved so drift hits all three.

First invocation: what a fresh container's first WebSocket event costs after `import app` (the Lambda's
init). Chalice deploys `$connect` and `$default` as functions of their own, so each is measured in a fresh
process of its own (`python -m bench.cold_start first-call ROLE`): in-process moto with the template's
resources provisioned and the tenant, visitors and connection already in place (set up by another process,
through the same handlers, against an embedded moto server sharing this process's AWS), then the clock
runs around the first call of the handler and around a second, like it, for a warm reference. What the
first call costs beyond the second is our code's first-use work: lazy modules, model builds, boto3
clients. moto's own imports (boto3, botocore) are loaded before the clock in this process: a figure for
our code, not for the SDK's import, which the import ratio above counts.
"""
from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
STATEMENTS = {"interpreter": "pass", "boto3": "import boto3", "app": "import app"}
# A first call's handler and event, per role: a visitor's connect, and a visitor's first message (which
# opens their conversation: the first frame of every chat).
FIRST_CALLS = {"ws_connect": "websocket_connect", "message_send": "websocket_message"}
FIRST_MESSAGE = {"action": "message.send", "client_msg_id": "m1", "text": "Where is my order #1234?"}


def run(runs: int, progress: Callable[[str], None] = print) -> dict[str, Any]:
    env = {**os.environ, "PYTHONDONTWRITEBYTECODE": "1"}
    seconds: dict[str, list[float]] = {name: [] for name in STATEMENTS}
    for _ in range(runs):
        for name, statement in STATEMENTS.items():
            started = time.perf_counter()
            subprocess.run([sys.executable, "-c", statement], cwd=ROOT, env=env, check=True)
            seconds[name].append(time.perf_counter() - started)
    median = {name: statistics.median(values) for name, values in seconds.items()}
    app_ms = 1000 * (median["app"] - median["interpreter"])
    boto3_ms = 1000 * (median["boto3"] - median["interpreter"])
    progress(f"  cold start: import app {app_ms:.0f} ms, import boto3 {boto3_ms:.0f} ms (medians of {runs})")
    first = first_invocations(runs, env)
    progress("  first invocation: " + ", ".join(
        f"{role} {first[f'{role}_first_ms']:.0f} ms (then {first[f'{role}_next_ms']:.0f} ms)" for role in FIRST_CALLS)
        + f" (medians of {runs} fresh processes each)")
    return {"runs": runs, "app_import_ms": app_ms, "boto3_import_ms": boto3_ms,
            "interpreter_ms": 1000 * median["interpreter"], "cold_import_ratio": app_ms / boto3_ms,
            "app_modules": _modules_loaded("import app", env), "boto3_modules": _modules_loaded("import boto3", env),
            **first}


def _modules_loaded(statement: str, env: dict[str, str]) -> int:
    """How many modules the import loads beyond a bare interpreter (a count: why the time is what it is)."""
    probe = f"import sys; before = len(sys.modules); {statement}; print(len(sys.modules) - before)"
    return int(subprocess.run([sys.executable, "-c", probe], cwd=ROOT, env=env, check=True, capture_output=True,
                              text=True).stdout)


def first_invocations(runs: int, env: dict[str, str]) -> dict[str, float]:
    """Per role, the medians over `runs` fresh processes of its first call and of the next one: wall time,
    and this process's CPU time (less swayed by what else loads the machine), in ms."""
    timings: dict[str, list[dict[str, float]]] = {role: [] for role in FIRST_CALLS}
    for _ in range(runs):
        for role in FIRST_CALLS:  # interleaved, as the imports are
            out = subprocess.run([sys.executable, "-m", "bench.cold_start", "first-call", role], cwd=ROOT, env=env,
                                 check=True, capture_output=True, text=True).stdout
            timings[role].append(json.loads(out.splitlines()[-1]))
    return {f"{role}_{call}_ms": statistics.median(run[call] for run in timings[role])
            for role in FIRST_CALLS for call in ("first", "next", "first_cpu", "next_cpu")}


def _first_call(role: str) -> dict[str, float]:
    """In this fresh process: AWS and the data in place, then the handler's first and second calls, timed."""
    from .inprocess import ENVIRONMENT, prepare_environment

    prepare_environment()
    import boto3
    from moto import mock_aws

    from devstack.aws import EmbeddedAws
    from devstack.harness import frames_sent, free_port, ws_event
    from devstack.provision import provision

    with mock_aws():
        provision(boto3.session.Session(), stack=ENVIRONMENT["SWITCHBOARD_STACK"])
        port = free_port()
        aws = EmbeddedAws("127.0.0.1", port)  # this process's moto, served to the set-up process
        aws.start()
        try:
            tokens = json.loads(subprocess.run(
                [sys.executable, "-m", "bench.cold_start", "set-up", role, f"http://127.0.0.1:{port}"], cwd=ROOT,
                check=True, stdout=subprocess.PIPE, text=True).stdout.splitlines()[-1])
            import app  # the Lambda's init, before the clock (the import is measured above)

            handler = getattr(app, FIRST_CALLS[role])
            timed: dict[str, float] = {}
            for call, (connection_id, token) in zip(("first", "next"), tokens.items(), strict=True):
                event = (ws_event("$connect", connection_id, query={"token": token}) if role == "ws_connect" else
                         ws_event("$default", connection_id, body=json.dumps(FIRST_MESSAGE)))
                started, cpu_started = time.perf_counter(), time.process_time()
                answer = handler(event, None)
                timed[call] = 1000 * (time.perf_counter() - started)
                timed[f"{call}_cpu"] = 1000 * (time.process_time() - cpu_started)
                if role == "ws_connect":
                    assert answer == {"statusCode": 200}, answer
                else:  # the message was taken: acknowledged on its connection
                    sent = [frame["type"] for frame in frames_sent(connection_id)]
                    assert "ack" in sent, sent
        finally:
            aws.stop()
    return timed


def _set_up(role: str, aws_url: str) -> dict[str, str]:
    """Through the handlers, against the measuring process's AWS (at aws_url): a tenant and two visitors,
    connected for a message; their connection ids and tokens."""
    from .inprocess import cheap_passwords, prepare_environment

    prepare_environment()
    os.environ["AWS_ENDPOINT_URL"] = aws_url
    from chalice.test import Client

    import app
    from devstack.harness import Api, connect, widget_session

    with cheap_passwords(), Client(app.app) as client:
        api = Api(client)
        tenant = api.signup()
        tokens = {f"{call}=": widget_session(api, tenant, name="Vera").json_body["visitor_token"]
                  for call in ("first", "next")}
    if role == "message_send":
        for connection_id, token in tokens.items():
            assert connect(connection_id, token)["statusCode"] == 200
    return tokens


if __name__ == "__main__":
    step, role, *aws_url = sys.argv[1:]
    print(json.dumps(_first_call(role) if step == "first-call" else _set_up(role, *aws_url)))
