"""The reliability suite: hypothesis runs the same examples every time and keeps no database in
the repository."""
from __future__ import annotations

from hypothesis import HealthCheck, settings

# derandomize: CI sees the examples a developer saw; no .hypothesis/ directory is written.
settings.register_profile("reliability", database=None, derandomize=True, deadline=None,
                          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow,
                                                 HealthCheck.data_too_large])
settings.load_profile("reliability")
