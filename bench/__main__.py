"""`make bench`: every section in one run, progress as it goes, a table at the end, and
bench/results.json + docs/benchmarks.md written (bench/report.py).

Sizes (environment, comma-separated where several):
  BENCH_CONVERSATIONS   conversations of the cost model            (default 100)
  BENCH_SCALE_SIZES     tenants = agents = open conversations        (default 10,100,1000)
  BENCH_LATENCY_LEVELS  concurrent conversations through the stack   (default 1,50,200)
  BENCH_EXPORT_SIZES    audit events exported                        (default 10000,100000)
  BENCH_IMPORT_RUNS     fresh interpreters per import measured       (default 7)
  BENCH_AUDIT_WRITERS   concurrent appenders to one audit chain      (default 1,8,32)
The latency section runs first and alone (its figures are wall-clock times of a stack sharing the
machine); then the audit export runs in its own processes alongside the in-process sections.
"""
from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from concurrent.futures import Future, ThreadPoolExecutor


def _sizes(name: str, default: str) -> list[int]:
    return [int(size) for size in os.environ.get(name, default).split(",")]


def main() -> None:
    from .inprocess import prepare_environment

    prepare_environment()
    from . import audit_append, cold_start, cost, crypto, export, latency, report, scaling

    started = time.perf_counter()
    lock = threading.Lock()

    def progress(line: str) -> None:
        with lock:
            print(f"[{time.perf_counter() - started:5.0f}s] {line}", flush=True)

    # What else loads the machine (other test runs share it), before any of the bench's own work.
    results: dict = {"load_average_at_start": os.getloadavg()[0]}
    levels = _sizes("BENCH_LATENCY_LEVELS", "1,50,200")
    progress(f"latency through the local stack at {levels} concurrent conversations "
             f"({latency.SAMPLES_PER_LEVEL} messages each, at least 3 rounds)")
    try:
        results["latency"] = latency.run(levels, progress)
    except (TimeoutError, RuntimeError, subprocess.SubprocessError) as err:  # reported as not measured
        progress(f"  latency: not measured: {err!r}")
        results["latency"] = {"error": repr(err)}
    conversations = int(os.environ.get("BENCH_CONVERSATIONS", "100"))
    export_sizes = _sizes("BENCH_EXPORT_SIZES", "10000,100000")
    with ThreadPoolExecutor(max_workers=1) as background:
        progress(f"audit export of {', '.join(map(str, export_sizes))} events (in the background, own processes)")
        exported: Future = background.submit(export.run, export_sizes, progress)
        progress(f"cost model: {conversations} conversations of {cost.MESSAGES_PER_CONVERSATION} messages")
        results["cost"] = cost.run(conversations, progress)
        scale_sizes = _sizes("BENCH_SCALE_SIZES", "10,100,1000")
        progress(f"flat scaling at sizes {scale_sizes}")
        results["scaling"] = scaling.run(scale_sizes, progress)
        progress("crypto: seal + open per message, KMS calls")
        results["crypto"] = crypto.run(progress)
        writers = _sizes("BENCH_AUDIT_WRITERS", "1,8,32")
        progress(f"audit appends to one chain at {writers} concurrent writers, in modelled time "
                 f"({audit_append.ROUND_TRIP_MS:.0f} ms a round trip)")
        results["audit_append"] = audit_append.run(writers, progress)
        runs = int(os.environ.get("BENCH_IMPORT_RUNS", "7"))
        progress(f"cold start: {runs} fresh interpreters per import")
        results["cold_start"] = cold_start.run(runs, progress)
        progress("waiting for the audit export...")
        results["export"] = exported.result()
    results["seconds"] = time.perf_counter() - started
    print(report.write(results))


if __name__ == "__main__":
    if {"-h", "--help"} & set(sys.argv[1:]):  # the run takes 15 minutes and more: never by mistake
        print(__doc__)
    else:
        main()
