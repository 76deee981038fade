"""Section 3, latency through the local stack (`python -m devstack`, started as the e2e tests do):
visitor-to-agent delivery of message.send, p50 and p99, with N conversations sending at once, as a
ratio to a bare echo through the same gateway at the same concurrency.

The echo is `ping`: the same WebSocket gateway, the same $default Lambda invocation and the same
connection lookup every frame needs, then the pong posted back through the Management API; it stores
nothing and routes nothing, so it is the floor any frame pays on this stack.
"""
from __future__ import annotations

import asyncio
import json
import statistics
import time
from typing import Any, Callable

AGENTS = 10
# A frame that has not come by then is not coming: the section fails instead of waiting forever.
WAIT_SECONDS = 30
SAMPLES_PER_LEVEL = 200  # messages (and pings) per concurrency level, spread over rounds


def run(levels: list[int], progress: Callable[[str], None] = print) -> dict[str, Any]:
    from tests.e2e.conftest import PASSWORD, RunningStack, sign_up

    stack = RunningStack()
    try:
        tenant = sign_up(stack, name="Bench")
        tokens = []
        for number in range(AGENTS):
            email = f"agent{number}@bench.com"
            created = stack.post("/v1/agents", {"email": email, "name": f"Agent {number}", "password": PASSWORD,
                                                "role": "agent", "teams": [], "max_concurrent": 20, "tier": 1},
                                 token=tenant["token"])
            assert created.status_code == 201, created.text
            tokens.append(stack.post("/v1/auth/login", {"tenant_id": tenant["tenant_id"], "email": email,
                                                        "password": PASSWORD}).json()["token"])
        return asyncio.run(_levels(stack, tenant, tokens, levels, progress))
    finally:
        stack.stop()


async def _levels(stack: Any, tenant: dict[str, Any], tokens: list[str], levels: list[int],
                  progress: Callable[[str], None]) -> dict[str, Any]:
    from websockets.asyncio.client import connect

    arrivals: dict[str, float] = {}
    delivered: dict[str, float] = {}
    agents = [await connect(f"{stack.ws}/?token={token}") for token in tokens]
    readers = [asyncio.create_task(_read_agent(agent, arrivals, delivered)) for agent in agents]
    for agent in agents:
        await agent.send(json.dumps({"action": "presence.set", "status": "online"}))
    results: dict[str, Any] = {}
    for level in levels:
        visitors = []
        for _ in range(level):
            session = stack.post(f"/v1/widget/{tenant['widget_key']}/sessions", {"name": "Vera"}).json()
            visitor = await connect(f"{stack.ws}/?token={session['visitor_token']}")
            await visitor.send(json.dumps({"action": "message.send", "client_msg_id": "open", "text": "Hi"}))
            ack = await _next_of(visitor, "ack")
            await _next_of(visitor, "conversation.assigned")
            visitors.append((visitor, ack["conversation_id"]))
        rounds = max(3, SAMPLES_PER_LEVEL // level)
        echo, delivery = [], []
        for number in range(rounds):
            echo += await asyncio.gather(*(_ping(visitor) for visitor, _ in visitors))
            delivery += await asyncio.gather(*(_deliver(visitor, conversation, f"{level}-{number}-{index}",
                                                        arrivals, delivered)
                                               for index, (visitor, conversation) in enumerate(visitors)))
        for visitor, conversation in visitors:
            await visitor.send(json.dumps({"action": "conversation.close", "conversation_id": conversation}))
            await visitor.close()
        results[str(level)] = measured = _percentiles(echo, delivery, rounds)
        progress(f"  latency: {level} conversations: delivery p50 {measured['delivery_p50_ms']:.1f} ms, "
                 f"echo p50 {measured['echo_p50_ms']:.1f} ms ({len(delivery)} messages)")
    for reader in readers:
        reader.cancel()
    for agent in agents:
        await agent.close()
    return results


async def _read_agent(agent: Any, arrivals: dict[str, float], delivered: dict[str, float]) -> None:
    async for raw in agent:
        frame = json.loads(raw)
        if frame.get("type") == "message.new" and frame["text"] in arrivals:
            delivered[frame["text"]] = time.perf_counter()
            arrivals.pop(frame["text"])


async def _next_of(connection: Any, kind: str) -> dict[str, Any]:
    while True:
        frame = json.loads(await asyncio.wait_for(connection.recv(), WAIT_SECONDS))
        if frame.get("type") == kind:
            return frame


async def _ping(visitor: Any) -> float:
    started = time.perf_counter()
    await visitor.send(json.dumps({"action": "ping"}))
    await _next_of(visitor, "pong")
    return time.perf_counter() - started


async def _deliver(visitor: Any, conversation_id: str, text: str, arrivals: dict[str, float],
                   delivered: dict[str, float]) -> float:
    arrivals[text] = started = time.perf_counter()
    await visitor.send(json.dumps({"action": "message.send", "conversation_id": conversation_id,
                                   "client_msg_id": text, "text": text}))
    await _next_of(visitor, "ack")
    while text not in delivered:
        if time.perf_counter() - started > WAIT_SECONDS:
            raise TimeoutError(f"message {text} never reached its agent")
        await asyncio.sleep(0.001)
    return delivered.pop(text) - started


def _percentiles(echo: list[float], delivery: list[float], rounds: int) -> dict[str, Any]:
    def pct(values: list[float], q: int) -> float:
        return 1000 * statistics.quantiles(values, n=100, method="inclusive")[q - 1]

    out = {"rounds": rounds, "messages": len(delivery),
           "echo_p50_ms": pct(echo, 50), "echo_p99_ms": pct(echo, 99),
           "delivery_p50_ms": pct(delivery, 50), "delivery_p99_ms": pct(delivery, 99)}
    out["latency_ratio_p50"] = out["delivery_p50_ms"] / out["echo_p50_ms"]
    out["latency_ratio_p99"] = out["delivery_p99_ms"] / out["echo_p99_ms"]
    return out
