"""Section 3, latency through the local stack (`python -m devstack`, started as the e2e tests do):
visitor-to-agent delivery of message.send, p50 and p99, with N conversations sending at once, as a
ratio to a bare echo through the same gateway at the same concurrency.

The echo is `ping`: the same WebSocket gateway, the same $default Lambda invocation and the same
connection lookup every frame needs, then the pong posted back through the Management API; it stores
nothing and routes nothing, so it is the floor any frame pays on this stack.

Per level: the visitors open their conversations one after another, then each round is one ping from
every visitor at once and then one message from every visitor at once (the burst). Then, above one
conversation, the same conversations at a human pace (PACED_*): a busy desk rather than a single instant.
The CPU time of the stack's process and of the embedded AWS (its child) over the message rounds, from
/proc, says how much of the machine they used.
"""
from __future__ import annotations

import asyncio
import json
import math
import os
import random
import statistics
import subprocess
import time
from collections.abc import Callable
from typing import Any

from devstack.harness import PASSWORD, RunningStack, sign_up

AGENT_CAPACITY = 20  # the most conversations an agent may hold (max_concurrent's bound)
# A frame that has not come by then is not coming: the section fails instead of waiting forever.
WAIT_SECONDS = 60
SAMPLES_PER_LEVEL = 200  # messages (and pings) per concurrency level, spread over rounds
# A load test, not an abuse test: every client here is 127.0.0.1, and each visitor sends a ping and a
# message a round (faster than 10 messages and 20 frames a second at one conversation), so the
# per-address, per-sender and per-connection limits are raised for this stack only (docs/benchmarks.md says so).
# A busy desk at a human pace, beside the burst (docs/benchmarks.md reports both): every visitor sends a
# message about every 15 s, i.e. each conversation's visitor types at that pace (all levels above one).
PACED_WINDOW_SECONDS = 30
PACED_MESSAGES_PER_CONVERSATION = 2
LOAD_TEST_LIMITS = {"WIDGET_SESSIONS_PER_MINUTE": "100000", "MESSAGES_PER_SECOND": "100000",
                    "LOGIN_LIMIT_PER_MINUTE": "100000", "WS_FRAMES_PER_SECOND": "100000",
                    "TENANT_NEW_VISITORS_PER_MINUTE": "100000"}


class FrameError(RuntimeError):
    """The stack answered a frame with an error frame, or not within WAIT_SECONDS."""


def run(levels: list[int], progress: Callable[[str], None] = print) -> dict[str, Any]:
    stack = RunningStack(**LOAD_TEST_LIMITS)
    try:
        # Each level's conversations stay open (closing 200 at once is a load of its own), so the
        # agents have room for all of them.
        tenant, tokens = _tenant_with_agents(stack, math.ceil(sum(levels) / AGENT_CAPACITY))
        return asyncio.run(_levels(stack, tenant, tokens, levels, progress))
    finally:
        # A stack that is slow to stop must not hide why the section ended: its error is the report's.
        try:
            stack.stop()
        except subprocess.TimeoutExpired:
            progress("  latency: the local stack did not stop within 30 s (killed)")


def _tenant_with_agents(stack: Any, agents: int) -> tuple[dict[str, Any], list[str]]:
    tenant = sign_up(stack, name="Bench")
    tokens = []
    for number in range(agents):
        email = f"agent{number}@bench.com"
        created = stack.post("/v1/agents", {"email": email, "name": f"Agent {number}", "password": PASSWORD,
                                            "role": "agent", "teams": [], "max_concurrent": AGENT_CAPACITY,
                                            "tier": 1}, token=tenant["token"])
        if created.status_code != 201:
            raise RuntimeError(f"creating an agent: {created.status_code} {created.text}")
        tokens.append(stack.post("/v1/auth/login", {"tenant_id": tenant["tenant_id"], "email": email,
                                                    "password": PASSWORD}).json()["token"])
    return tenant, tokens


async def _levels(stack: Any, tenant: dict[str, Any], tokens: list[str], levels: list[int],
                  progress: Callable[[str], None]) -> dict[str, Any]:
    from websockets.asyncio.client import connect

    # Each message's text -> resolved with the time its message.new reached an agent.
    arrivals: dict[str, asyncio.Future[float]] = {}
    agents = [await connect(f"{stack.ws}/?token={token}") for token in tokens]
    readers = []
    try:
        for agent in agents:
            await agent.send(json.dumps({"action": "presence.set", "status": "online"}))
            await _next_of(agent, "presence")
            readers.append(asyncio.create_task(_read_agent(agent, arrivals)))
        results: dict[str, Any] = {}
        for level in levels:
            results[str(level)] = measured = await _level(stack, tenant, level, arrivals, progress)
            progress(f"  latency: {level} conversations: delivery p50 {measured['delivery_p50_ms']:.1f} ms, "
                     f"echo p50 {measured['echo_p50_ms']:.1f} ms ({measured['messages']} messages, "
                     f"{measured['messages_per_second']:.1f}/s on {measured['stack_cpu_cores']:.2f} cores)")
        return results
    finally:
        for reader in readers:
            reader.cancel()
        await asyncio.gather(*(agent.close() for agent in agents))


async def _level(stack: Any, tenant: dict[str, Any], level: int, arrivals: dict[str, asyncio.Future[float]],
                 progress: Callable[[str], None]) -> dict[str, Any]:
    """`level` visitors each in a routed conversation, then rounds of one ping and one message each."""
    from websockets.asyncio.client import connect

    visitors = []
    try:
        for _ in range(level):
            session = stack.post(f"/v1/widget/{tenant['widget_key']}/sessions", {"name": "Vera"})
            if session.status_code != 201:
                raise RuntimeError(f"a widget session: {session.status_code} {session.text}")
            visitors.append(await connect(f"{stack.ws}/?token={session.json()['visitor_token']}"))
        # One after another: opened all at once, conversations that lose the race for the same
        # least-loaded agent MAX_ATTEMPTS times stay queued while agents have room (docs/benchmarks.md).
        started = time.perf_counter()
        conversations = [await _open(visitor) for visitor in visitors]
        progress(f"  latency: {level} conversations opened and assigned in {time.perf_counter() - started:.0f} s")
        rounds = max(3, SAMPLES_PER_LEVEL // level)
        echo, delivery = [], []
        seconds = cpu = aws_cpu = 0.0  # of the message rounds: how fast the stack took them, on how much CPU
        for number in range(rounds):
            echo += await asyncio.gather(*(_ping(visitor) for visitor in visitors))
            (cpu_before, aws_before), started = _cpu_seconds(stack.process.pid), time.perf_counter()
            delivery += await asyncio.gather(*(_deliver(visitor, conversation, f"{level}-{number}-{index}", arrivals)
                                               for index, (visitor, conversation)
                                               in enumerate(zip(visitors, conversations, strict=True))))
            seconds += time.perf_counter() - started
            cpu_after, aws_after = _cpu_seconds(stack.process.pid)
            cpu, aws_cpu = cpu + cpu_after - cpu_before, aws_cpu + aws_after - aws_before
        paced = await _paced(stack, level, visitors, conversations, arrivals) if level > 1 else {}
        if paced:
            progress(f"  latency: {level} conversations at a human pace: delivery p50 {paced['paced_p50_ms']:.1f} ms "
                     f"({paced['paced_messages']} messages, {paced['paced_messages_per_second']:.1f}/s)")
    finally:
        await asyncio.gather(*(visitor.close() for visitor in visitors))
    return {**_percentiles(echo, delivery, rounds), "messages_per_second": len(delivery) / seconds,
            "stack_cpu_cores": (cpu + aws_cpu) / seconds, "aws_cpu_cores": aws_cpu / seconds, **paced}


async def _paced(stack: Any, level: int, visitors: list[Any], conversations: list[str],
                 arrivals: dict[str, asyncio.Future[float]]) -> dict[str, Any]:
    """The same conversations typing at a human pace: each visitor sends PACED_MESSAGES_PER_CONVERSATION messages
    at moments drawn uniformly (seeded) over PACED_WINDOW_SECONDS, one after another on its connection."""
    draw = random.Random(level)
    schedule = [sorted(draw.uniform(0, PACED_WINDOW_SECONDS) for _ in range(PACED_MESSAGES_PER_CONVERSATION))
                for _ in visitors]
    (cpu_before, aws_before), started = _cpu_seconds(stack.process.pid), time.perf_counter()

    async def conversation_at_pace(index: int) -> list[float]:
        delays = []
        for number, moment in enumerate(schedule[index]):
            await asyncio.sleep(max(0.0, started + moment - time.perf_counter()))
            delays.append(await _deliver(visitors[index], conversations[index], f"{level}-paced-{index}-{number}",
                                         arrivals))
        return delays

    delivery = [delay for delays in await asyncio.gather(*(conversation_at_pace(index) for index in range(level)))
                for delay in delays]
    seconds = time.perf_counter() - started
    cpu_after, aws_after = _cpu_seconds(stack.process.pid)
    return {"paced_messages": len(delivery), "paced_messages_per_second": len(delivery) / PACED_WINDOW_SECONDS,
            "paced_p50_ms": _percentile(delivery, 50), "paced_p99_ms": _percentile(delivery, 99),
            "paced_stack_cpu_cores": (cpu_after - cpu_before + aws_after - aws_before) / seconds}


def _cpu_seconds(pid: int) -> tuple[float, float]:
    """CPU time (user + system) the stack's process and its children (the embedded AWS) have used so far."""
    own = _process_cpu_seconds(pid)
    children = 0.0
    for entry in os.listdir("/proc"):
        if entry.isdigit() and int(entry) != pid:
            try:
                if _stat_fields(int(entry))[1] == str(pid):
                    children += _process_cpu_seconds(int(entry))
            except (FileNotFoundError, ProcessLookupError):
                pass  # a process that ended between the listing and the read
    return own, children


def _stat_fields(pid: int) -> list[str]:
    """/proc/PID/stat after the command name: fields[0] is the state, [1] the parent, [11] and [12] CPU ticks."""
    with open(f"/proc/{pid}/stat") as stat:
        return stat.read().rpartition(")")[2].split()


def _process_cpu_seconds(pid: int) -> float:
    fields = _stat_fields(pid)
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


async def _open(visitor: Any) -> str:
    await visitor.send(json.dumps({"action": "message.send", "client_msg_id": "open", "text": "Hi"}))
    ack = await _next_of(visitor, "ack")
    await _next_of(visitor, "conversation.assigned")
    return ack["conversation_id"]


async def _read_agent(agent: Any, arrivals: dict[str, asyncio.Future[float]]) -> None:
    async for raw in agent:
        frame = json.loads(raw)
        if frame.get("type") == "message.new" and frame["text"] in arrivals:
            arrivals.pop(frame["text"]).set_result(time.perf_counter())


async def _next_of(connection: Any, kind: str) -> dict[str, Any]:
    """The next frame of that type; an error frame instead is the stack refusing, reported as such."""
    while True:
        try:
            frame = json.loads(await asyncio.wait_for(connection.recv(), WAIT_SECONDS))
        except TimeoutError:
            raise FrameError(f"no {kind} frame within {WAIT_SECONDS} s") from None
        if frame.get("type") == "error":
            raise FrameError(f"an error frame while waiting for {kind}: {frame}")
        if frame.get("type") == kind:
            return frame


async def _ping(visitor: Any) -> float:
    started = time.perf_counter()
    await visitor.send(json.dumps({"action": "ping"}))
    await _next_of(visitor, "pong")
    return time.perf_counter() - started


async def _deliver(visitor: Any, conversation_id: str, text: str,
                   arrivals: dict[str, asyncio.Future[float]]) -> float:
    arrivals[text] = arrived = asyncio.get_running_loop().create_future()
    started = time.perf_counter()
    await visitor.send(json.dumps({"action": "message.send", "conversation_id": conversation_id,
                                   "client_msg_id": text, "text": text}))
    await _next_of(visitor, "ack")
    try:
        return await asyncio.wait_for(arrived, WAIT_SECONDS) - started
    except TimeoutError:
        raise FrameError(f"message {text} acked but not at its agent within {WAIT_SECONDS} s") from None


def _percentile(values: list[float], q: int) -> float:
    """The q-th percentile of values in seconds, in milliseconds."""
    return 1000 * statistics.quantiles(values, n=100, method="inclusive")[q - 1]


def _percentiles(echo: list[float], delivery: list[float], rounds: int) -> dict[str, Any]:
    pct = _percentile
    out = {"rounds": rounds, "messages": len(delivery),
           "echo_p50_ms": pct(echo, 50), "echo_p99_ms": pct(echo, 99),
           "delivery_p50_ms": pct(delivery, 50), "delivery_p99_ms": pct(delivery, 99)}
    out["latency_ratio_p50"] = out["delivery_p50_ms"] / out["echo_p50_ms"]
    out["latency_ratio_p99"] = out["delivery_p99_ms"] / out["echo_p99_ms"]
    return out
