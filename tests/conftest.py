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


def _cost_rank(item: pytest.Item) -> int:
    """Longest first: tests of minutes (`long`), then those that drive a browser, then the rest of those on a
    local stack (`e2e`), then the in-process ones (many small files, which fill the workers' last minutes)."""
    return next((rank for rank, mark in enumerate(("long", "browser", "e2e")) if item.get_closest_marker(mark)), 3)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """The workers share out files in collection order (`make test` passes --no-loadscope-reorder, or xdist
    would order them by their number of tests), so the costliest come first (a stable sort keeps each rank in
    its order): a minutes-long file scheduled last kept the run going minutes after the rest."""
    items.sort(key=_cost_rank)


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


# Budgets per source address that every test on the shared stack spends from 127.0.0.1 together: sign-ups
# (10 an hour), logins, widget sessions and visitor requests. Raised on the shared stack, since the modules
# sharing it would add up past them; the limits themselves are tested on stacks of their own
# (tests/browser/test_sign_up.py) and in-process (tests/functional/test_tenancy.py, test_login_throttle.py,
# test_visitor_budgets.py).
SHARED_STACK_SETTINGS = {"SIGNUP_LIMIT_PER_HOUR": "1000000", "LOGIN_LIMIT_PER_MINUTE": "1000000",
                         "WIDGET_SESSIONS_PER_MINUTE": "1000000", "VISITOR_SOURCE_REQUESTS_PER_MINUTE": "1000000",
                         # A webhook's first retry after 1 s, not 30: tests/e2e/test_webhooks_e2e.py waits for four.
                         "WEBHOOK_RETRY_SECONDS": "1"}


@pytest.fixture(scope="session")
def shared_stack():
    """One local stack per test worker, shared by every e2e and browser module that takes `stack` and asks for
    no stack of its own: a stack takes seconds to start, and each test signs up tenants of its own, so tests
    on it cannot see each other's data. What they do share: the per-address budgets (raised, above), the
    scheduled jobs and `/dev/jobs` runs (which act on every tenant: count your own tenant's effects, not a
    run's totals), `/dev/outbox` (read your own addresses), the log (`stack.output`) and the seeded demo
    tenant (read it, don't change it)."""
    running = RunningStack(**SHARED_STACK_SETTINGS)
    yield running
    running.stop()


@pytest.fixture(scope="module")
def stack(request: pytest.FixtureRequest):
    """The local stack as `make dev` runs it (e2e, reliability, browser): the worker's shared one, or a
    module's own with `pytestmark = pytest.mark.own_stack(**settings)` (settings: SWITCHBOARD_* variables
    without the prefix), for a module that tests a per-address limit at its default, changes what every
    tenant sees, or needs other settings."""
    own = request.node.get_closest_marker("own_stack")
    if own is None:
        yield request.getfixturevalue("shared_stack")
        return
    running = RunningStack(**own.kwargs)
    yield running
    running.stop()
