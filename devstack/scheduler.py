"""Runs the app's @app.schedule jobs locally: on their rate, and on demand for /dev/jobs."""
from __future__ import annotations

import re
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from types import ModuleType
from typing import Any

from chalice import Chalice
from chalice.app import ScheduledEventConfig

from .background import BackgroundLoop

Log = Callable[[str], None]
_UNIT_SECONDS = {"minute": 60, "minutes": 60, "hour": 3600, "hours": 3600, "day": 86400, "days": 86400}


def rate_seconds(expression: str) -> float:
    """Seconds between runs of a rate(...) expression; cron(...) jobs run only on demand locally."""
    match = re.fullmatch(r"rate\((\d+) (\w+)\)", expression)
    if not match or match.group(2) not in _UNIT_SECONDS:
        return 0.0
    return int(match.group(1)) * _UNIT_SECONDS[match.group(2)]


def job_name(function_name: str) -> str:
    return function_name.replace("_", "-")


@dataclass
class Job:
    name: str
    expression: str
    handler: Callable[[dict[str, Any], Any], Any]
    interval: float
    runs: int = 0
    last_run_at: float | None = None
    last_summary: Any = None
    lock: threading.Lock = field(default_factory=threading.Lock)

    def describe(self) -> dict[str, Any]:
        return {"name": self.name, "schedule": self.expression, "runs": self.runs,
                "last_run_at": self.last_run_at, "last_summary": self.last_summary}


def chalice_jobs(app: Chalice, module: ModuleType) -> list[Job]:
    """The app's scheduled jobs, as the handlers a Lambda would run.

    handler_string is always "app.<function>" and the config keeps no function, so the module
    holding the app is given: app.py locally, the test module in tests."""
    jobs = []
    for source in app.event_sources:
        if not isinstance(source, ScheduledEventConfig):
            continue
        handler = getattr(module, source.handler_string.rpartition(".")[2])
        expression = source.schedule_expression
        expression = expression if isinstance(expression, str) else expression.to_string()
        jobs.append(Job(job_name(source.name), expression, handler, rate_seconds(expression)))
    return jobs


class Scheduler(BackgroundLoop):
    def __init__(self, jobs: list[Job], log: Log = print) -> None:
        super().__init__("scheduler", 0.5, self._run_due)
        self.jobs = {job.name: job for job in jobs}
        self._log = log
        self._due: dict[str, float] = {}

    def start(self) -> None:
        # Each rate job first runs one interval after start, as a new EventBridge rule does.
        self._due = {name: time.monotonic() + job.interval for name, job in self.jobs.items() if job.interval}
        super().start()

    def run(self, name: str) -> Any:
        """Run one job now, as EventBridge would: a scheduled event, one invocation at a time."""
        job = self.jobs[name]
        event = {"version": "0", "id": f"local-{time.time_ns()}", "detail-type": "Scheduled Event",
                 "source": "aws.events", "account": "123456789012", "region": "us-east-1",
                 "time": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()), "resources": [],
                 "detail": {}}
        with job.lock:
            started = time.monotonic()
            job.last_summary = job.handler(event, None)
            job.runs += 1
            job.last_run_at = time.time()
        self._log(f"job {name} {int((time.monotonic() - started) * 1000)}ms {job.last_summary}")
        return job.last_summary

    def _run_due(self) -> None:
        for name, at in self._due.items():
            if time.monotonic() >= at:
                self._due[name] = time.monotonic() + self.jobs[name].interval
                try:
                    self.run(name)
                except Exception as exc:  # a failing job must not stop the others
                    self._log(f"job {name} failed: {type(exc).__name__}: {exc}")
