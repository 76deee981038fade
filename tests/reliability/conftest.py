"""The reliability suite: hypothesis runs the same examples every time and keeps no database in
the repository; the local-stack fixture is shared with tests/e2e."""
from __future__ import annotations

from hypothesis import HealthCheck, settings

from tests.e2e.conftest import stack  # noqa: F401  (the local stack, one per test module)

# derandomize: CI sees the examples a developer saw; no .hypothesis/ directory is written.
settings.register_profile("reliability", database=None, derandomize=True, deadline=None,
                          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow,
                                                 HealthCheck.data_too_large])
settings.load_profile("reliability")
