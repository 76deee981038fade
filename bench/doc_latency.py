"""Section 3 of docs/benchmarks.md, latency through the local stack: its text around one run's figures
(every number from the results, as in bench/doc_text.py)."""
from __future__ import annotations

from typing import Any


def latency_section(latency: dict[str, Any], per: dict[str, float], model: dict[str, Any],
                    run: dict[str, Any]) -> list[str]:
    measured = {level: m for level, m in sorted(latency.items(), key=lambda item: int(item[0])) if level != "error"}
    paced = {level: m for level, m in measured.items() if "paced_p50_ms" in m}
    low = next(iter(measured.values()), None)
    window, per_conversation = model["latency_paced_window_seconds"], model["latency_paced_messages_per_conversation"]
    return [
        "`python -m devstack` as the e2e tests start it, first in the run and alone: the stack's process (the "
        f"WebSocket gateway, its Management API, the REST API and the Lambda handlers on "
        f"{run['local_stack_handler_threads']} threads) and the embedded AWS, moto's server, in a process of its own "
        "(devstack/aws.py); visitors and agents on `websockets` clients. "
        "Delivery: from the visitor's send to the agent's `message.new`. The floor: `ping`, which crosses the same "
        "gateway, runs the same $default invocation and its connection lookup, and posts `pong` back through the "
        "Management API, storing and routing nothing. At each level the visitors open their conversations one after "
        "another, then every round is a ping from each visitor at once, then a message from each at once (the "
        "burst); the conversations stay open through the later levels "
        f"(agents at capacity {model['latency_agent_capacity']} enough for all of them). Then, above one "
        f"conversation, the same conversations at a human pace: each visitor sends {per_conversation} messages at "
        f"moments drawn at random (uniformly, seeded) over {window:g} s, one about every "
        f"{window / per_conversation:.0f} s a conversation, each after the one before "
        "it on its connection. (At one conversation the burst already sends one message at a time.)",
        "",
        "This is a load test, so the stack runs with its abuse limits raised (" + ", ".join(
            f"`SWITCHBOARD_{name}={value}`" for name, value in model["latency_load_test_limits"].items())
        + "): every client is `127.0.0.1`, and at one conversation a visitor sends faster than the default "
        "per-sender message limit allows. With the default limits the section stops at one conversation on a "
        "`rate_limited` error frame.",
        "",
        "The burst:",
        "",
        "| conversations at once | messages | delivery p50 / p99 (ms) | echo p50 / p99 (ms) | ratio p50 | ratio p99 "
        "| messages a second | stack CPU (cores): all / the AWS's |",
        "|---|---|---|---|---|---|---|---|",
        *[f"| {level} | {m['messages']} | {m['delivery_p50_ms']:.1f} / {m['delivery_p99_ms']:.1f} | "
          f"{m['echo_p50_ms']:.1f} / {m['echo_p99_ms']:.1f} | {m['latency_ratio_p50']:.2f} | "
          f"{m['latency_ratio_p99']:.2f} | {m['messages_per_second']:.1f} | {m['stack_cpu_cores']:.2f} / "
          f"{m['aws_cpu_cores']:.2f} |" for level, m in measured.items()],
        *([f"Not measured in this run: {latency['error']}."] if "error" in latency else []),
        *(["", "At a human pace:", "",
           "| conversations | messages | messages a second | delivery p50 / p99 (ms) | p50 / p50 at "
           f"{next(iter(measured))} conversation | stack CPU (cores) |",
           "|---|---|---|---|---|---|",
           *[f"| {level} | {m['paced_messages']} | {m['paced_messages_per_second']:.1f} | {m['paced_p50_ms']:.1f} / "
             f"{m['paced_p99_ms']:.1f} | {m['paced_p50_ms'] / low['delivery_p50_ms']:.2f} | "
             f"{m['paced_stack_cpu_cores']:.2f} |" for level, m in paced.items()]] if paced and low else []),
        "",
        *(_latency_why(measured, per, run, model["latency_targets"])
          if low is not None and "error" not in latency else []),
    ]


def _latency_why(measured: dict[str, Any], per: dict[str, float], run: dict[str, Any],
                 targets: dict[str, float]) -> list[str]:
    (lowest, low), (highest, high) = next(iter(measured.items())), list(measured.items())[-1]
    requests = per["dynamodb_requests"] + per.get("apigatewaymanagementapi.PostToConnection", 0)
    aws_ms = 1000 * high["aws_cpu_cores"] / high["messages_per_second"]
    stack_ms = 1000 * high["stack_cpu_cores"] / high["messages_per_second"]
    burst_x = high["delivery_p50_ms"] / low["delivery_p50_ms"]
    paced_x = high["paced_p50_ms"] / low["delivery_p50_ms"] if "paced_p50_ms" in high else None
    echo_bound, burst_bound = targets["echo_ratio"], targets["burst_ratio"]
    aws_ms_needed = burst_bound * low["delivery_p50_ms"] / (int(highest) / 2)
    if burst_x <= 5:
        verdict = "The burst target is met."
    elif aws_ms > aws_ms_needed:
        verdict = (f"So the burst target cannot be met on {run['cpus']} cores with moto as the AWS: it needs the "
                   f"AWS's CPU per message under {aws_ms_needed:.1f} ms.")
    else:
        verdict = (f"The AWS's CPU per message is under the {aws_ms_needed:.1f} ms the target needs, so what is "
                   f"missing is CPU: the stack had {high['stack_cpu_cores']:.2f} of {run['cpus']} cores.")
    return [
        f"**Against issue #21's targets.** At {lowest} conversation delivery p50 is {low['latency_ratio_p50']:.2f}× "
        f"the echo's (target ≤ {echo_bound:g}×). At {highest} conversations the burst's p50 is {burst_x:.1f}× its "
        f"value at {lowest} (target ≤ {burst_bound:g}×)"
        + (f"; at a human pace ({high['paced_messages_per_second']:.1f} messages a second across them) it is "
           f"{paced_x:.2f}×." if paced_x is not None else "."),
        "",
        "**Where the time goes.** Profiled by hand with py-spy before and after the change below, not by this run: "
        "[profiling.md](profiling.md) has the figures, their settings and date. In short: moto answering requests "
        "held the interpreter lock most of the time, the handler threads most of the rest (nearly all of it in "
        "botocore, urllib3 and pynamodb making the calls, little in chalicelib's own code), and the gateway next to "
        "nothing. With everything in one process, a moto request waited inside its one-request lock for the "
        "interpreter lock behind the handler threads, so requests queued for that lock and the process used under "
        f"one core. At {lowest} conversation the difference from the echo is the AWS requests: a message costs "
        f"about {requests:.0f} (the cost model) against the echo's connection lookup and pong, each a round trip "
        "costing moto's server and botocore some CPU; fewer requests per message narrow the ratio.",
        "",
        "**What changed.** The embedded AWS runs in a process of its own (devstack/aws.py), still answering one "
        "request at a time, so its lock is held for moto's own work only, and it has the second core "
        "([profiling.md](profiling.md) has the side-by-side figures of the change).",
        "",
        f"**What bounds the burst.** At {highest} conversations each message cost {stack_ms:.0f} ms of CPU, "
        f"{aws_ms:.0f} ms of it in the embedded AWS, which answers one request at a time: with a core to itself it "
        f"takes at most about {1000 / aws_ms:.0f} messages a second, so of {highest} messages sent in the same "
        f"instant the median one waits behind about {int(highest) // 2} others, about "
        f"{int(highest) / 2 * aws_ms:.0f} ms, against the target's {burst_bound * low['delivery_p50_ms']:.0f} ms "
        f"({burst_bound:g} × {low['delivery_p50_ms']:.1f} ms); measured, {high['delivery_p50_ms']:.0f} ms, with the "
        "AWS on "
        f"{high['aws_cpu_cores']:.2f} of a core and the stack's process on "
        f"{high['stack_cpu_cores'] - high['aws_cpu_cores']:.2f} (the machine is shared: the load average "
        f"above). {verdict} "
        "The levers left, in order: fewer DynamoDB requests per message (the cost model; each is a moto request), "
        "cheaper moto requests (update expressions parsed and validated afresh each time; the HTTP server), and "
        "beyond them a local DynamoDB that answers requests in parallel, which moto cannot while keeping each "
        "request atomic. On AWS none of this applies: each message is its own Lambda invocation and DynamoDB "
        "serves them in parallel. And a desk is busy at a human pace, not in one instant: the table above.",
        "",
        "Two things had stopped this section before: the stack's default abuse limits (above), and moto's "
        "TransactWriteItems, which deep-copied every table a transaction names, so each message and each audit "
        "event took longer the more the stack held and the largest level did not finish; the embedded moto now "
        "backs up only the items a transaction addresses (devstack/moto_transactions.py). Conversations are opened "
        "one after another, so that each level measures delivery rather than assignment. (Many opened at once used "
        "to leave some queued while agents had room: `routing.route` retried the same least-loaded agent after "
        "each lost race and gave up after a few. A loser now tries the next agents it read; the soak found and "
        "fixed it, docs/reliability.md.)",
    ]
