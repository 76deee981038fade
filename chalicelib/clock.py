"""The one source of time, so tests can move it instead of sleeping."""
from __future__ import annotations

import time
from datetime import UTC, datetime


class Clock:
    def now(self) -> float:
        return time.time()

    def utcnow(self) -> datetime:
        return datetime.fromtimestamp(self.now(), tz=UTC)

    def sleep(self, seconds: float) -> None:
        """Back off for a while (a bench replaces it with its model of time, bench/audit_append.py)."""
        time.sleep(seconds)


def iso(moment: datetime) -> str:
    """The contract's timestamp form: ISO 8601 UTC with a Z, whole seconds."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
