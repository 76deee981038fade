"""Section 1, the cost model: a scripted support day through the real handlers on moto, every AWS
request counted (bench/metering.py) and priced (bench/pricing.py).

Per conversation: a widget session and a WebSocket connect, 12 messages alternating visitor and agent
(the first opens the conversation and is routed: an assignment; the second, the agent's first reply,
records the first response), the agent closes it, send-surveys
sends the survey over the WebSocket, the visitor answers it over REST and disconnects. Then one audit
export of the whole day, and audit-verify once (it runs daily). Ten agents, five chats each, take the
conversations in batches of ten. The scheduled jobs' idle runs are measured apart: they are a fixed
cost per month, whatever the traffic.
"""
from __future__ import annotations

import itertools
from collections.abc import Callable
from typing import Any

from devstack.harness import MovableClock, Party, disconnect, run_job, visitor

from . import pricing
from .metering import Meter, Tally

AGENTS = 10
BATCH = 10
MESSAGES_PER_CONVERSATION = 12
# Connection minutes are not measured (the clock is simulated): a visitor stays connected this long.
VISITOR_MINUTES_PER_CONVERSATION = 10
SURVEY_DELAY_SECONDS = 300  # the settings' default survey_delay_seconds
JOBS = ("reroute-stale", "send-surveys", "retention", "audit-verify", "reconcile-capacity", "audit-login-failures")
WORKLOAD_PHASES = ("visitor.join", "message.first", "reply.first", "message", "close", "survey", "visitor.leave",
                   "export", "audit-verify")
_ids = itertools.count(1)


def run(conversations: int, progress: Callable[[str], None] = print) -> dict[str, Any]:
    from .inprocess import chalice_on_moto

    meter, clock = Meter(), MovableClock()
    with chalice_on_moto(clock, meter) as api:
        tenant, agents = _tenant_with_agents(api)
        for start in range(0, conversations, BATCH):
            _batch(api, meter, clock, tenant, agents, min(BATCH, conversations - start))
            if start // BATCH % 10 == 9:
                progress(f"  cost: {start + BATCH}/{conversations} conversations")
        _export(api, meter, tenant)
        with meter.phase("audit-verify"):
            run_job("audit-verify")
        for job in JOBS:
            with meter.phase(f"idle:{job}"):
                run_job(job)
    return summarise(meter, conversations)


def _tenant_with_agents(api: Any) -> tuple[dict[str, Any], dict[str, Any]]:
    tenant = api.signup()
    tenant["admin_token"] = api.login(tenant["tenant_id"], "admin@acme.com")
    agents = {}
    for number in range(AGENTS):
        email = f"agent{number}@acme.com"
        created = api.add_agent(tenant["admin_token"], email, max_concurrent=5)
        agents[created["agent_id"]] = party = Party(api.login(tenant["tenant_id"], email))
        party.send(action="presence.set", status="online")
    return tenant, agents


def _batch(api: Any, meter: Meter, clock: Any, tenant: dict[str, Any], agents: dict[str, Any], size: int) -> None:
    chats = []
    for _ in range(size):
        with meter.phase("visitor.join"):
            guest = visitor(api, tenant, name="Vera")
        with meter.phase("message.first"):
            guest.send(action="message.send", client_msg_id=f"m{next(_ids)}", text="Where is my order #1234?")
        frames = guest.new_frames()
        conversation_id = next(f["conversation_id"] for f in frames if f["type"] == "ack")
        agent_id = next(f["agent"]["agent_id"] for f in frames if f["type"] == "conversation.assigned")
        chats.append((guest, agents[agent_id], conversation_id))
    for turn in range(1, MESSAGES_PER_CONVERSATION):
        # The agent's first reply is once a conversation (it records the first response, in one transaction
        # with the conversation): a phase of its own, like the first message; the rest are steady-state.
        with meter.phase("reply.first" if turn == 1 else "message"):
            for guest, helper, conversation_id in chats:
                speaker = helper if turn % 2 else guest
                speaker.send(action="message.send", conversation_id=conversation_id, client_msg_id=f"m{next(_ids)}",
                             text=f"A line of an ordinary support chat, turn {turn}: it is on its way.")
    with meter.phase("close"):
        for _, helper, conversation_id in chats:
            helper.send(action="conversation.close", conversation_id=conversation_id, resolution="resolved")
    clock.advance(SURVEY_DELAY_SECONDS + 1)
    with meter.phase("survey"):
        sent = run_job("send-surveys")
        assert sent["websocket"] == size, sent
        for guest, _, _ in chats:
            [request] = guest.of_type("survey.request")
            answered = api.call("POST", f"/v1/surveys/{request['survey_token']}", {"rating": 5})
            assert answered.status_code == 200, answered.body
    with meter.phase("visitor.leave"):
        for guest, _, _ in chats:
            disconnect(guest.connection_id)


def _export(api: Any, meter: Meter, tenant: dict[str, Any]) -> None:
    import boto3

    import app as app_module
    from devstack.queues import consumer_named, deliver_once

    with meter.phase("export"):
        token = tenant["admin_token"]
        accepted = api.call("POST", "/v1/audit/exports", {"from": "2000-01-01T00:00:00Z", "to": "2100-01-01T00:00:00Z"},
                            token=token)
        assert accepted.status_code == 202, accepted.body
        consumer = consumer_named(app_module.app, app_module, "audit_export")
        # Each step of the export its own invocation: a chunk of events, then completing the file.
        for _ in range(2):
            assert meter.invoke(deliver_once, consumer, boto3.client("sqs"), batches=1) == 1
        status = api.call("GET", f"/v1/audit/exports/{accepted.json_body['export_id']}", token=token).json_body
        assert status["status"] == "ready", status


# --- From counts to dollars ---------------------------------------------------------------------
def priced(tally: Tally, connection_minutes: float = 0.0) -> dict[str, Any]:
    quantities = pricing.priced_quantities(tally, connection_minutes)
    usd = pricing.usd_of(quantities)
    return {"quantities": quantities, "usd": usd, "usd_total": sum(usd.values())}


def summarise(meter: Meter, conversations: int) -> dict[str, Any]:
    messages = conversations * MESSAGES_PER_CONVERSATION
    workload = meter.total(*WORKLOAD_PHASES)
    workload_cost = priced(workload, VISITOR_MINUTES_PER_CONVERSATION * conversations)
    steady = meter.tallies["message"]
    steady_messages = conversations * (MESSAGES_PER_CONVERSATION - 2)  # after the first message and reply
    steady_usd = priced(steady)
    per_message = steady_usd["usd_total"] / steady_messages
    return {
        "conversations": conversations,
        "messages": messages,
        "usd_per_message": per_message,
        "usd_per_message_all_in": workload_cost["usd_total"] / messages,
        "usd_per_1000_conversations": workload_cost["usd_total"] * 1000 / conversations,
        "floor_usd_per_message": pricing.FLOOR_PER_MESSAGE,
        "target_usd_per_message": pricing.TARGET_PER_MESSAGE,
        "amazon_connect_usd_per_message": pricing.AMAZON_CONNECT_CHAT_PER_MESSAGE,
        "per_message": _per(steady, steady_messages),
        "usd_per_message_by_item": {name: usd / steady_messages for name, usd in steady_usd["usd"].items()},
        "write_units_per_message_by": _write_units_by(steady, steady_messages),
        "agents": AGENTS,
        "messages_per_conversation": MESSAGES_PER_CONVERSATION,
        "visitor_minutes_per_conversation": VISITOR_MINUTES_PER_CONVERSATION,
        "amazon_connect_ratio": pricing.AMAZON_CONNECT_CHAT_PER_MESSAGE / (workload_cost["usd_total"] / messages),
        "lambda_invocations_per_conversation": workload.invocations / conversations,
        "workload_usd_by_item": workload_cost["usd"],
        "phases": {name: {**tally.as_dict(), "usd": priced(tally)["usd_total"]}
                   for name, tally in meter.tallies.items()},
    }


def _per(tally: Tally, count: int) -> dict[str, float]:
    """What one steady-state message.send costs in requests and units."""
    return {"lambda_invocations": tally.invocations / count,
            "dynamodb_requests": tally.requests("dynamodb") / count,
            "read_units": tally.read_units / count,
            "write_units": tally.write_units / count,
            "ws_messages": (tally.ws_messages_in + tally.ws_messages_out) / count,
            "handler_cpu_ms": 1000 * tally.handler_cpu_seconds / count,
            "round_trip_ms": 1000 * pricing.AWS_ROUND_TRIP_SECONDS * sum(tally.calls.values()) / count,
            "moto_cpu_ms_excluded": 1000 * tally.moto_cpu_seconds / count,
            **{name: n / count for name, n in sorted(tally.calls.items())}}


def _write_units_by(tally: Tally, count: int) -> dict[str, float]:
    """Where one steady-state message's write units land: each table (transactional or not) and index."""
    return {where: units / count for where, units in sorted(tally.write_units_by.items())}
