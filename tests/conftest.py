"""Shared test set-up. The environment is fixed before anything imports chalicelib,
because models read their table names from it at import time."""
from __future__ import annotations

import os

for _name in ("AWS_PROFILE", "AWS_ENDPOINT_URL", "AWS_SESSION_TOKEN"):
    os.environ.pop(_name, None)
os.environ.update({
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_DEFAULT_REGION": "us-east-1",
    "AWS_REGION": "us-east-1",
    "SWITCHBOARD_STACK": "switchboard-test",
    "SWITCHBOARD_EXPORT_BUCKET": "switchboard-test-exports-123456789012",
    "SWITCHBOARD_UPLOAD_BUCKET": "switchboard-test-uploads-123456789012",
    "SWITCHBOARD_ATTACHMENT_BUCKET": "switchboard-test-attachments-123456789012",
    # moto's Management API answers on execute-api hosts; what is posted there is kept per connection.
    "SWITCHBOARD_WS_MANAGEMENT_ENDPOINT": "https://test.execute-api.us-east-1.amazonaws.com/dev",
    "SWITCHBOARD_WS_URL": "wss://test.execute-api.us-east-1.amazonaws.com/dev",
    "SWITCHBOARD_PUBLIC_URL": "https://test.execute-api.us-east-1.amazonaws.com/api",
    # Tests create agents and log in all the time: scrypt at N=2^10, not 2^17 (~0.4 s of CPU each);
    # tests/functional/test_credentials.py holds the deployed default.
    "SWITCHBOARD_SCRYPT_N": str(2**10),
})

import threading  # noqa: E402

import pytest  # noqa: E402
from moto.core.botocore_stubber import BotocoreStubber  # noqa: E402

# DynamoDB applies each request atomically; in-process moto does not when threads overlap.
# Serialise moto's handling of each request (clients still race between requests, as on AWS).
_moto_lock = threading.RLock()
_moto_call = BotocoreStubber.__call__


def _one_request_at_a_time(self, *args, **kwargs):
    with _moto_lock:
        return _moto_call(self, *args, **kwargs)


BotocoreStubber.__call__ = _one_request_at_a_time

from devstack.harness import Api, MovableClock, RunningStack  # noqa: E402
from tests.helpers import FrozenClock, in_process_aws, signed_up  # noqa: E402


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Tests marked `long` first (a stable sort keeps the rest in order): the workers share out files in
    collection order, and two minutes-long files collected last kept the run going minutes after the rest."""
    items.sort(key=lambda item: item.get_closest_marker("long") is None)


@pytest.fixture(scope="session")
def boto_session():
    """One boto3 session for the run: it caches service models, so per-test clients are cheap."""
    import boto3

    return boto3.session.Session()


@pytest.fixture
def clock(request) -> MovableClock:
    """Real time, moved by the test; standing still under @pytest.mark.frozen_clock, for tests that count
    against fixed-window limits and must not see a window end mid-test."""
    return FrozenClock() if request.node.get_closest_marker("frozen_clock") else MovableClock()


@pytest.fixture
def aws(clock: MovableClock, boto_session):
    """The template's resources in moto with no data in them, and a fresh Lambda container."""
    with in_process_aws(clock, boto_session):
        yield


@pytest.fixture
def client(aws):
    from chalice.test import Client

    from app import app

    with Client(app) as test_client:
        yield test_client


@pytest.fixture
def api(client):
    """JSON requests with bearer auth through the Chalice handlers."""
    return Api(client)


@pytest.fixture
def tenant(api) -> dict:
    """A signed-up tenant (admin@acme.com) and its admin's session token."""
    return signed_up(api)


@pytest.fixture(scope="module")
def stack():
    """The local stack as `make dev` runs it, one per test module (e2e, reliability, browser)."""
    running = RunningStack()
    yield running
    running.stop()
