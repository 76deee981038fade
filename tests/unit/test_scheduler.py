"""The local scheduler finds @app.schedule jobs and runs them as EventBridge would."""
from __future__ import annotations

import sys
import time

from chalice import Chalice, Rate

from devstack.scheduler import Scheduler, chalice_jobs, rate_seconds

app = Chalice(app_name="scheduler-test")
runs: list[dict] = []


@app.schedule(Rate(1, unit=Rate.MINUTES))
def tidy_up(event) -> dict:
    runs.append(event.to_dict())
    return {"tidied": len(runs)}


def test_rate_expressions():
    assert rate_seconds("rate(1 minute)") == 60
    assert rate_seconds("rate(5 minutes)") == 300
    assert rate_seconds("rate(1 day)") == 86400
    assert rate_seconds("cron(0 3 * * ? *)") == 0  # on demand only


def test_jobs_are_discovered_and_run_on_demand_with_a_scheduled_event():
    runs.clear()
    [job] = chalice_jobs(app, sys.modules[__name__])
    assert (job.name, job.expression, job.interval) == ("tidy-up", "rate(1 minute)", 60)
    scheduler = Scheduler([job], log=lambda line: None)
    assert scheduler.run("tidy-up") == {"tidied": 1}
    assert runs[0]["detail-type"] == "Scheduled Event"
    assert job.describe()["runs"] == 1 and job.describe()["last_summary"] == {"tidied": 1}


def test_jobs_run_on_their_schedule():
    runs.clear()
    [job] = chalice_jobs(app, sys.modules[__name__])
    job.interval = 0.2  # the loop honours whatever interval the expression gave
    scheduler = Scheduler([job], log=lambda line: None)
    scheduler.start()
    deadline = time.monotonic() + 5
    while len(runs) < 2 and time.monotonic() < deadline:
        time.sleep(0.05)
    scheduler.stop()
    assert len(runs) >= 2
