"""`make bench`: every section in one run, progress as it goes, a table at the end, and
bench/results.json + docs/benchmarks.md written (bench/report.py).

Sizes (environment, comma-separated where several):
  BENCH_CONVERSATIONS    conversations of the cost model                       (default 100)
  BENCH_SCALE_SIZES      tenants = agents = open conversations                   (default 10,100,1000)
  BENCH_RECONCILE_SIZES  closed conversations behind an agent's open ones        (default 10,100,1000,10000)
  BENCH_LATENCY_LEVELS   concurrent conversations through the stack              (default 1,50,200)
  BENCH_EXPORT_SIZES     audit events exported                                   (default 100000,2000000)
  BENCH_EXPORT_CHUNK     events an export step writes before it hands on at a full part (default 250000)
  BENCH_IMPORT_RUNS      fresh interpreters per import measured                  (default 7)
  BENCH_AUDIT_WRITERS    concurrent appenders to one audit chain                 (default 1,8,32)
The latency section runs first and alone (its figures are wall-clock times of a stack sharing the
machine); then the audit export runs in its own processes alongside the in-process sections. The
sizes used, each section's time and the machine are written into the results (docs/benchmarks.md
prints them).
"""
from __future__ import annotations

import inspect
import os
import platform
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

# Each size's environment variable and its default (the module's docstring says what each sizes).
SIZES = {"BENCH_CONVERSATIONS": "100", "BENCH_SCALE_SIZES": "10,100,1000",
         "BENCH_RECONCILE_SIZES": "10,100,1000,10000", "BENCH_LATENCY_LEVELS": "1,50,200",
         "BENCH_EXPORT_SIZES": "100000,2000000", "BENCH_IMPORT_RUNS": "7",
         "BENCH_AUDIT_WRITERS": "1,8,32"}


def _sizes(name: str) -> list[int]:
    return [int(size) for size in os.environ.get(name, SIZES[name]).split(",")]


def main() -> None:
    from .inprocess import prepare_environment

    prepare_environment()
    from . import audit_append, cold_start, cost, crypto, export, latency, reconcile, report, scaling

    started = time.perf_counter()
    lock = threading.Lock()

    def progress(line: str) -> None:
        with lock:
            print(f"[{time.perf_counter() - started:5.0f}s] {line}", flush=True)

    sizes = {name: _sizes(name) for name in SIZES}
    # What else loads the machine (other test runs share it), before any of the bench's own work.
    results: dict = {"settings": run_settings(sizes), "section_seconds": {}}

    def timed(section: str, work: Callable[[], Any]) -> Any:
        section_started = time.perf_counter()
        try:
            return work()
        finally:
            results["section_seconds"][section] = time.perf_counter() - section_started

    levels = sizes["BENCH_LATENCY_LEVELS"]
    progress(f"latency through the local stack at {levels} concurrent conversations "
             f"({latency.SAMPLES_PER_LEVEL} messages each, at least 3 rounds)")
    try:
        results["latency"] = timed("latency", lambda: latency.run(levels, progress))
    except (TimeoutError, RuntimeError, subprocess.SubprocessError) as err:  # reported as not measured
        progress(f"  latency: not measured: {err!r}")
        results["latency"] = {"error": repr(err)}
    [conversations] = sizes["BENCH_CONVERSATIONS"]
    export_sizes = sizes["BENCH_EXPORT_SIZES"]
    with ThreadPoolExecutor(max_workers=1) as background:
        progress(f"audit export of {', '.join(map(str, export_sizes))} events (in the background, own processes)")
        exported: Future = background.submit(timed, "export", lambda: export.run(export_sizes, progress))
        progress(f"cost model: {conversations} conversations of {cost.MESSAGES_PER_CONVERSATION} messages")
        results["cost"] = timed("cost", lambda: cost.run(conversations, progress))
        progress(f"flat scaling at sizes {sizes['BENCH_SCALE_SIZES']}")
        results["scaling"] = timed("scaling", lambda: scaling.run(sizes["BENCH_SCALE_SIZES"], progress))
        progress(f"reconcile and hand-back behind {sizes['BENCH_RECONCILE_SIZES']} closed conversations")
        results["reconcile"] = timed("reconcile", lambda: reconcile.run(sizes["BENCH_RECONCILE_SIZES"], progress))
        progress("crypto: seal + open per message, KMS calls")
        results["crypto"] = timed("crypto", lambda: crypto.run(progress))
        writers = sizes["BENCH_AUDIT_WRITERS"]
        progress(f"audit appends to one chain at {writers} concurrent writers, in modelled time "
                 f"({audit_append.ROUND_TRIP_MS:.0f} ms a round trip)")
        results["audit_append"] = timed("audit_append", lambda: audit_append.run(writers, progress))
        [runs] = sizes["BENCH_IMPORT_RUNS"]
        progress(f"cold start: {runs} fresh interpreters per import")
        results["cold_start"] = timed("cold_start", lambda: cold_start.run(runs, progress))
        progress("waiting for the audit export...")
        results["export"] = exported.result()
    results["seconds"] = time.perf_counter() - started
    results["settings"]["load_average_at_end"] = os.getloadavg()[0]
    print(report.write(results))


def run_settings(sizes: dict[str, list[int]]) -> dict[str, Any]:
    """What the run used and ran on, taken before it starts."""
    from devstack.ws_gateway.gateway import WebSocketGateway

    root = Path(__file__).resolve().parents[1]

    def git(*args: str) -> str:
        return subprocess.run(["git", *args], cwd=root, capture_output=True, text=True).stdout.strip()

    return {"sizes": sizes, "python": platform.python_version(), "cpus": os.cpu_count() or 1,
            "load_average_at_start": os.getloadavg()[0],
            "git_commit": git("rev-parse", "--short=12", "HEAD") or "unknown",
            "uncommitted_changes": bool(git("status", "--porcelain", "--untracked-files=no")),
            "local_stack_handler_threads": inspect.signature(WebSocketGateway).parameters["workers"].default,
            "started_at": datetime.now(UTC).isoformat(timespec="seconds")}


if __name__ == "__main__":
    if {"-h", "--help"} & set(sys.argv[1:]):  # the run takes 15 minutes and more: never by mistake
        print(__doc__)
    else:
        main()
