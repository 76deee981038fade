"""Audit appends per second to one tenant's chain at 1, 8 and 32 concurrent writers (issue #21, item 3).

The model. On AWS every writer is a Lambda of its own (its own CPU) and DynamoDB serves requests in
parallel, each answered a network round trip after it was sent. In-process moto answers in
microseconds, under one GIL, on a machine other work shares: timed by the wall clock, 32 writers
would measure the machine's two cores, not the design. So the writers run the real code
(chalicelib.audit.trail on in-process moto) in modelled time: every AWS request is answered
ROUND_TRIP_MS after it is sent, moto applies it whole half-way (when it reaches DynamoDB), requests in
flight overlap, and the code between requests takes no time; a backoff waits in modelled time too.
The writers take turns in modelled-time order (one thread runs at a time), so the figures do not
depend on the machine's load. The backoff's jitter is seeded, so `serialised` repeats exactly; group
commit's figures vary a little from run to run: a waiting event's id ends in a random part (as it must
be unique), and among events left at the same modelled moment it decides whose appender links.
Not modelled: DynamoDB's TransactionConflict (two transactions on one item at the same moment; here
the later one sees the earlier one's writes and its condition fails instead, which is how appenders
lose the race anyway) and per-partition limits (about 1,000 writes a second).

Both designs run under the same model, side by side: `group_commit` (record_event as it is) and
`serialised` (what record_event did before: one transaction per event conditioned on the head,
retried with jittered backoff, 4 ms doubling up to 250 ms, at most 60 tries).
"""
from __future__ import annotations

import heapq
import itertools
import random
import statistics
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from chalicelib.clock import Clock

ROUND_TRIP_MS = 10.0
APPENDS_PER_WRITER = 8
TARGET_SPEEDUP = 4.0
SYSTEM = {"kind": "system", "id": "bench"}


class ModelledTime(Clock):
    """Threads that take turns: whoever waits (for an AWS answer, or a backoff) yields to the thread
    due next in modelled time, and modelled time jumps to that moment."""

    def __init__(self, start: float) -> None:
        self._start, self._now = start, 0.0
        self._due: list[tuple[float, int, threading.Event]] = []
        self._order = itertools.count()
        self._lock = threading.Lock()
        self._finished = threading.Event()

    @property
    def elapsed(self) -> float:
        return self._now

    def now(self) -> float:
        return self._start + self._now

    def sleep(self, seconds: float) -> None:
        turn = self._schedule(seconds)
        self._pass_on()
        turn.wait()

    def run(self, jobs: list[Callable[[], None]]) -> None:
        """Each job in a thread of its own, all starting now; returns when every one has finished."""
        threads = []
        for job in jobs:
            turn = self._schedule(0.0)
            threads.append(threading.Thread(target=self._take_turns, args=(job, turn), daemon=True))
        for thread in threads:
            thread.start()
        self._finished.clear()
        self._pass_on()
        self._finished.wait()
        for thread in threads:
            thread.join()

    def _take_turns(self, job: Callable[[], None], turn: threading.Event) -> None:
        turn.wait()
        try:
            job()
        finally:
            self._pass_on()

    def _schedule(self, seconds: float) -> threading.Event:
        turn = threading.Event()
        with self._lock:
            heapq.heappush(self._due, (self._now + seconds, next(self._order), turn))
        return turn

    def _pass_on(self) -> None:
        with self._lock:
            if not self._due:
                self._finished.set()
                return
            due, _, turn = heapq.heappop(self._due)
            self._now = max(self._now, due)
        turn.set()


@contextmanager
def round_trips(clock: ModelledTime, seconds: float) -> Iterator[Counter[str]]:
    """Every AWS request answered `seconds` of modelled time after it is sent; counts them."""
    from moto.core.botocore_stubber import BotocoreStubber

    answer, sent = BotocoreStubber.__call__, Counter[str]()

    def after_a_round_trip(stubber: Any, event_name: str, request: Any, **kwargs: Any) -> Any:
        sent[event_name.split(".", 1)[1]] += 1
        clock.sleep(seconds / 2)  # on its way to DynamoDB, where it is applied
        answered = answer(stubber, event_name, request, **kwargs)
        clock.sleep(seconds / 2)  # the answer on its way back
        return answered

    BotocoreStubber.__call__ = after_a_round_trip  # type: ignore[method-assign]
    try:
        yield sent
    finally:
        BotocoreStubber.__call__ = answer  # type: ignore[method-assign]


def serialised_append(tenant_id: str, action: str, target: str, details: dict[str, Any]) -> None:
    """What record_event did before group commit: one event per transaction on the head, retried."""
    from chalicelib.audit import trail
    from chalicelib.clock import iso
    from chalicelib.runtime import runtime

    draft = trail.Draft(iso(runtime().clock.utcnow()), SYSTEM, action, target, details)
    for attempt in range(trail.MAX_ATTEMPTS):
        if trail.link(tenant_id, trail.chain_head(tenant_id), [draft]) is not None:
            return
        runtime().clock.sleep(random.uniform(0, min(0.004 * 2 ** attempt, 0.25)))
    raise RuntimeError(f"could not append {action} to the audit chain of {tenant_id}")


def group_commit_append(tenant_id: str, action: str, target: str, details: dict[str, Any]) -> None:
    from chalicelib.audit.trail import record_event

    record_event(tenant_id, SYSTEM, action, target, details)


DESIGNS: dict[str, Callable[[str, str, str, dict[str, Any]], None]] = {
    "group_commit": group_commit_append, "serialised": serialised_append}


def measure(design: str, writers: int, appends_per_writer: int, session: Any) -> dict[str, Any]:
    """`writers` threads each appending `appends_per_writer` events to one fresh tenant's chain."""
    from chalicelib.runtime import Runtime, use_runtime

    append = DESIGNS[design]
    tenant_id = f"t_bench_{design}_{writers}"
    clock = ModelledTime(time.time())
    use_runtime(Runtime(clock=clock, session=session))
    latencies: list[float] = []
    failures: list[str] = []
    random.seed(writers)  # the backoff's jitter: the same figures every run

    def writer(number: int) -> None:
        for n in range(appends_per_writer):
            started = clock.elapsed
            try:
                append(tenant_id, "bench.append", f"w{number}n{n}", {"writer": number, "n": n})
            except RuntimeError as err:  # the chain could not take it: counted, not hidden
                failures.append(str(err))
            else:
                latencies.append(clock.elapsed - started)

    try:
        with round_trips(clock, ROUND_TRIP_MS / 1000) as sent:
            clock.run([lambda number=number: writer(number) for number in range(writers)])
        intact = _chain_intact(tenant_id, len(latencies))
    finally:
        use_runtime(None)
    appended = len(latencies)
    return {
        "writers": writers, "appends": appended, "failed": len(failures),
        "modelled_seconds": round(clock.elapsed, 4),
        "appends_per_second": round(appended / clock.elapsed, 1),
        "latency_ms": {"p50": round(1000 * statistics.median(latencies), 1),
                       "max": round(1000 * max(latencies), 1)},
        "requests_per_append": {**{name: round(count / appended, 2) for name, count in sorted(sent.items())},
                                "total": round(sum(sent.values()) / appended, 2)},
        "chain_intact": intact,
    }


def _chain_intact(tenant_id: str, appended: int) -> bool:
    """Every appended event is on the chain once, seq 1..n, every link and hash holding."""
    from chalicelib.audit.chain import GENESIS, ChainBroken, ChainState
    from chalicelib.storage.audit import AuditEventModel

    state = ChainState(1, GENESIS)
    try:
        for item in AuditEventModel.query(tenant_id, consistent_read=True):
            state.accept(item.as_event())
    except ChainBroken:
        return False
    return state.count == appended


def run(levels: list[int], progress: Callable[[str], None],
        appends_per_writer: int = APPENDS_PER_WRITER) -> dict[str, Any]:
    import boto3
    from moto import mock_aws

    from chalicelib.config import get_config
    from devstack.aws import moto_fixes
    from devstack.provision import provision

    started = time.perf_counter()
    results: dict[str, Any] = {
        "model": {"round_trip_ms": ROUND_TRIP_MS, "time": "modelled: each AWS request answered one round "
                  "trip after it is sent and applied half-way, requests overlap, code between requests takes "
                  "no time (each writer is a Lambda with its own CPU); not modelled: TransactionConflict, "
                  "partition limits"},
        "appends_per_writer": appends_per_writer, "levels": levels}
    session = boto3.session.Session()
    with mock_aws(), moto_fixes():
        provision(session, stack=get_config().stack)
        for design in DESIGNS:
            results[design] = {}
            for writers in levels:
                figures = measure(design, writers, appends_per_writer, session)
                results[design][str(writers)] = figures
                progress(f"  audit appends, {design}, {writers} writers: {figures['appends_per_second']}/s "
                         f"(p50 {figures['latency_ms']['p50']} ms, {figures['requests_per_append']['total']} "
                         f"requests an append, {figures['failed']} failed)")
    low, high = str(min(levels)), str(max(levels))
    for design in DESIGNS:
        rate = results[design]
        results[f"{design}_speedup"] = round(rate[high]["appends_per_second"] / rate[low]["appends_per_second"], 2)
    results["target_speedup"] = TARGET_SPEEDUP
    results["target_met"] = results["group_commit_speedup"] >= TARGET_SPEEDUP and all(
        figures["failed"] == 0 and figures["chain_intact"] for figures in results["group_commit"].values())
    results["wall_seconds"] = round(time.perf_counter() - started, 1)
    return results
