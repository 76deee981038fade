"""Section 6, audit export: events per second and peak memory of an export of one tenant's whole
chain, at each size, written in steps as the `audit_export` function writes it on AWS.

The local stack's embedded AWS (devstack/aws.py: moto's server, whose Query reads a page straight off
a sorted partition) runs in a process of its own, so its memory is not the export's. For each size a
child process seeds one tenant's chain with valid, linked events (chalicelib/audit/chain.py's own
hash, batch-written through the AuditEventModel); a child records the export as requested and queues
its first step; then each step's message, taken off the export queue, is handed to a fresh child
(a fresh Lambda invocation) that runs the queue consumer on it and reports its resident memory before
the step and its peak after. A step queues the next itself: chunks of BENCH_EXPORT_CHUNK events
(SWITCHBOARD_EXPORT_EVENTS_PER_CHUNK; each ends at the next full 8 MiB part), then completing the file.

The peak is VmHWM, not ru_maxrss: Linux carries the parent's high-water mark into a child's
ru_maxrss across fork and exec, so a child of the bench (hundreds of MB after the in-process
sections) reported the bench's size, not its own.
Run as `python -m bench.export seed TENANT FIRST COUNT PREVIOUS_HASH`, `request TENANT` or
`step MESSAGE_BODY` for those children.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Callable
from datetime import UTC
from pathlib import Path
from typing import Any

from devstack.harness import free_port

from .inprocess import ENVIRONMENT

ROOT = Path(__file__).resolve().parents[1]
STACK = "switchboard-bench-export"
RANGE = ("2000-01-01T00:00:00Z", "2100-01-01T00:00:00Z")
SEED_CHUNK = 100_000  # events a seeding child writes, so that a long seeding reports its progress
CHUNK_EVENTS = int(os.environ.get("BENCH_EXPORT_CHUNK", "250000"))  # events per step (the deployed default: 500,000)


def run(sizes: list[int], progress: Callable[[str], None] = print) -> dict[str, Any]:
    from chalicelib.audit.chain import GENESIS

    port = free_port()
    server = subprocess.Popen([sys.executable, "-m", "devstack.aws", str(port)], cwd=ROOT,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    env = {**os.environ, **ENVIRONMENT, "SWITCHBOARD_STACK": STACK,
           "SWITCHBOARD_EXPORT_EVENTS_PER_CHUNK": str(CHUNK_EVENTS),
           "SWITCHBOARD_EXPORT_BUCKET": f"{STACK}-exports-123456789012", "AWS_ENDPOINT_URL": f"http://127.0.0.1:{port}"}
    try:
        _wait_for(port)
        _child(env, "provision")
        results = {}
        rate = None
        for number, size in enumerate(sizes):
            tenant = f"t_bench{number}"
            started, previous = time.perf_counter(), GENESIS
            for first in range(1, size + 1, SEED_CHUNK):
                count = min(SEED_CHUNK, size + 1 - first)
                previous = _child(env, "seed", tenant, str(first), str(count), previous)["last_hash"]
                progress(f"  export: seeded {first + count - 1} of {size} events "
                         f"({time.perf_counter() - started:.0f} s)")
            progress(f"  export: exporting {size} events in chunks of {CHUNK_EVENTS}"
                     + (f" (about {size / rate:.0f} s at the last size's rate)..." if rate else "..."))
            measured = _export(env, tenant, port, progress)
            assert measured["event_count"] == size, measured
            measured["events_per_second"] = rate = size / measured["seconds"]
            results[str(size)] = measured
            peaks = ", ".join(f"{step['peak_rss_mb']:.0f}" for step in measured["steps"])
            progress(f"  export: {size} events at {measured['events_per_second']:.0f}/s in {len(measured['steps'])} "
                     f"steps, peak {measured['peak_rss_mb']:.0f} MB (per step: {peaks} MB)")
        return results
    finally:
        # Killed, not stopped: it holds nothing worth keeping, and tearing down a million items' worth of
        # Python objects took longer than the bench should wait.
        server.kill()
        server.wait()


def _export(env: dict[str, str], tenant: str, port: int, progress: Callable[[str], None]) -> dict[str, Any]:
    """Each step's message handed to a fresh child until the export is no longer pending."""
    import boto3

    sqs = boto3.client("sqs", endpoint_url=f"http://127.0.0.1:{port}", region_name="us-east-1",
                       aws_access_key_id="bench", aws_secret_access_key="bench")
    queue = sqs.get_queue_url(QueueName=f"{STACK}-audit-exports")["QueueUrl"]
    export_id = _child(env, "request", tenant)["export_id"]
    steps: list[dict[str, Any]] = []
    while True:
        [message] = sqs.receive_message(QueueUrl=queue, MaxNumberOfMessages=1).get("Messages", [None])
        if message is None:
            break
        steps.append(_child(env, "step", message["Body"]))
        sqs.delete_message(QueueUrl=queue, ReceiptHandle=message["ReceiptHandle"])
        progress(f"  export: step {len(steps)}: {steps[-1]['events_written']} events written so far, "
                 f"{steps[-1]['seconds']:.0f} s, peak {steps[-1]['peak_rss_mb']:.0f} MB")
    final = steps[-1]
    assert final["status"] == "ready", final
    return {"export_id": export_id, "event_count": final["event_count"], "size_bytes": final["size_bytes"],
            "parts": final["parts"], "seconds": sum(step["seconds"] for step in steps),
            "peak_rss_mb": max(step["peak_rss_mb"] for step in steps),
            "rss_before_mb": max(step["rss_before_mb"] for step in steps), "chunk_events": CHUNK_EVENTS,
            "steps": steps, "step_count": len(steps)}


def _wait_for(port: int) -> None:
    import requests

    for _ in range(300):
        try:
            requests.get(f"http://127.0.0.1:{port}/moto-api/", timeout=1)
            return
        except requests.ConnectionError:
            time.sleep(0.1)
    raise RuntimeError("the moto server did not start")


def _child(env: dict[str, str], *args: str) -> dict[str, Any]:
    done = subprocess.run([sys.executable, "-m", "bench.export", *args], cwd=ROOT, env=env, capture_output=True,
                          text=True)
    if done.returncode:
        raise RuntimeError(f"bench.export {args[0]} failed:\n{done.stderr[-3000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


# --- The children ---------------------------------------------------------------------------------
def _provision() -> dict[str, Any]:
    from devstack.provision import provision

    provision(stack=STACK, endpoint_url=os.environ["AWS_ENDPOINT_URL"], log=lambda line: None)
    return {}


def _seed(tenant_id: str, first: int, count: int, previous: str) -> dict[str, Any]:
    """Events first..first+count-1 of the chain, linked to `previous`; the chain's head moves to the last."""
    from datetime import datetime, timedelta

    from chalicelib.audit.chain import event_hash
    from chalicelib.clock import iso
    from chalicelib.storage.audit import AuditChainModel, AuditEventModel

    start, last, ts = datetime(2026, 1, 1, tzinfo=UTC), first + count - 1, ""
    with AuditEventModel.batch_write() as batch:
        for seq in range(first, last + 1):
            ts = iso(start + timedelta(seconds=seq))
            event = {"seq": seq, "ts": ts, "actor": {"kind": "agent", "id": f"a_{seq % 50}"},
                     "action": "transcript.read", "target": f"c_{seq // 12:08d}", "details": {"messages": 12},
                     "prev_hash": previous}
            event["hash"] = previous = event_hash(event)
            batch.save(AuditEventModel.of(tenant_id, event))
    AuditChainModel(tenant_id, last_seq=last, last_hash=previous, last_ts=ts).save()
    return {"last_hash": previous}


def _request(tenant_id: str) -> dict[str, Any]:
    """The export recorded as a compliance user's request records it, and its first step queued."""
    from datetime import datetime

    from chalicelib.audit.exports import queue_step
    from chalicelib.storage.audit import AuditExportModel

    export = AuditExportModel(tenant_id, "x_bench", status="pending", range_from=RANGE[0], range_to=RANGE[1],
                              requested_by={"kind": "system", "id": "bench"}, created_at=datetime.now(UTC), step=1)
    export.save()
    queue_step(tenant_id, export.export_id)
    return {"export_id": export.export_id}


def _step(body: str) -> dict[str, Any]:
    """One invocation of the export queue's consumer with one message."""
    import app as app_module
    from chalicelib.storage.audit import AuditExportModel

    request = json.loads(body)
    rss_before = _status_mb()
    started = time.perf_counter()
    app_module.audit_export({"Records": [{"body": body, "messageId": "bench", "receiptHandle": "bench",
                                          "attributes": {}, "messageAttributes": {}, "md5OfBody": "",
                                          "eventSource": "aws:sqs", "eventSourceARN": "bench",
                                          "awsRegion": "us-east-1"}]}, None)
    seconds = time.perf_counter() - started
    export = AuditExportModel.get(request["tenant_id"], request["export_id"], consistent_read=True)
    assert export.status != "failed", export.error
    done = export.progress or {}
    return {"step": request.get("step", 1), "status": export.status, "seconds": seconds,
            "rss_before_mb": rss_before, "peak_rss_mb": _status_mb("VmHWM"),
            "events_written": done.get("event_count", 0), "parts": done.get("parts", 0),
            "event_count": int(export.event_count or 0), "size_bytes": int(export.size_bytes or 0),
            "chain_intact": export.broken_seq is None}


def _status_mb(field: str = "VmRSS") -> float:
    """A memory figure of this process from /proc/self/status (VmRSS now, VmHWM its peak)."""
    status = Path("/proc/self/status").read_text()
    return int(next(line for line in status.splitlines() if line.startswith(f"{field}:")).split()[1]) / 1024


if __name__ == "__main__":
    command, *arguments = sys.argv[1:]
    if command == "provision":
        answer = _provision()
    elif command == "seed":
        answer = _seed(arguments[0], int(arguments[1]), int(arguments[2]), arguments[3])
    elif command == "request":
        answer = _request(arguments[0])
    else:
        answer = _step(arguments[0])
    print(json.dumps(answer))
