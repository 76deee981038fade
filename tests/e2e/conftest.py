"""The local stack as `make dev` runs it: one subprocess on free ports per test module."""
from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading
from pathlib import Path

import pytest
import requests

ROOT = Path(__file__).resolve().parents[2]
PASSWORD = "correct horse battery"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class RunningStack:
    def __init__(self, **settings: str) -> None:
        """`settings`: more SWITCHBOARD_* variables for the stack (limits a test needs raised)."""
        self.ports = {name: free_port() for name in ("HTTP", "WS", "WS_MANAGEMENT", "AWS")}
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


@pytest.fixture(scope="module")
def stack():
    running = RunningStack()
    yield running
    running.stop()


def sign_up(stack: RunningStack, name: str = "E2E", admin_email: str = "admin@e2e.com") -> dict:
    """A tenant signed up through the public API: its admin's token and one visitor's session."""
    signed = stack.post("/v1/tenants", {"name": name, "admin_email": admin_email,
                                        "admin_password": PASSWORD}).json()
    login = stack.post("/v1/auth/login", {"tenant_id": signed["tenant_id"], "email": admin_email,
                                          "password": PASSWORD}).json()
    visitor = stack.post(f"/v1/widget/{signed['widget_key']}/sessions", {"name": "Vera"}).json()
    return {**signed, "token": login["token"], "ws_url": login["ws_url"], "visitor": visitor}


@pytest.fixture(scope="module")
def tenant(stack: RunningStack) -> dict:
    return sign_up(stack)


