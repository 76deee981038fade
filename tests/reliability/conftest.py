"""The reliability suite: hypothesis runs the same examples every time and keeps no database in
the repository."""
from __future__ import annotations

import pytest
from hypothesis import HealthCheck, settings

from devstack.harness import RunningStack, sign_up

# derandomize: CI sees the examples a developer saw; no .hypothesis/ directory is written.
settings.register_profile("reliability", database=None, derandomize=True, deadline=None,
                          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow,
                                                 HealthCheck.data_too_large])
settings.load_profile("reliability")


@pytest.fixture(scope="module")
def unthrottled_stack():
    """The fuzzing modules' stack (a module's own): thousands of requests from one address, most with one
    tenant's admin token, within minutes, and frames as fast as the stack answers, so the per-address,
    per-tenant and per-connection budgets are raised for it only (tests/reliability/test_abuse_limits.py
    tests them)."""
    running = RunningStack(TENANT_REQUESTS_PER_MINUTE="1000000", WIDGET_SESSIONS_PER_MINUTE="1000000",
                           SIGNUP_LIMIT_PER_HOUR="1000000", LOGIN_LIMIT_PER_MINUTE="1000000",
                           TENANT_NEW_VISITORS_PER_MINUTE="1000000", VISITOR_SOURCE_REQUESTS_PER_MINUTE="1000000",
                           WS_FRAMES_PER_SECOND="1000000")
    yield running
    running.stop()


@pytest.fixture(scope="module")
def fuzzed_tenant(unthrottled_stack: RunningStack) -> dict:
    return sign_up(unthrottled_stack, name="Fuzzed", admin_email="admin@fuzzed.example")
