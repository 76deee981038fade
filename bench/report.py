"""bench/results.json, docs/benchmarks.md and its chart from one run's figures, and the printed table."""
from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from chalicelib.audit.export_file import PART_BYTES

from . import monthly as monthly_model
from . import pricing
from .doc_text import render
from .latency import AGENT_CAPACITY, LOAD_TEST_LIMITS, PACED_MESSAGES_PER_CONVERSATION, PACED_WINDOW_SECONDS

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "bench" / "results.json"
DOC = ROOT / "docs" / "benchmarks.md"
CHART = ROOT / "docs" / "benchmarks-cost-per-message.svg"


def summary(results: dict[str, Any]) -> dict[str, Any]:
    """The headline figures the issue names, from the sections' results."""
    cost, latency, export = results["cost"], _levels(results), results["export"]
    levels = sorted(latency, key=int)
    return {
        "usd_per_message": cost["usd_per_message"],
        "usd_per_message_all_in": cost["usd_per_message_all_in"],
        "usd_per_1000_conversations": cost["usd_per_1000_conversations"],
        "ddb_requests_per_message": {size: m["dynamodb_requests"]
                                     for size, m in results["scaling"]["message.send"].items()},
        "ddb_requests_per_assignment": {size: m["dynamodb_requests"]
                                        for size, m in results["scaling"]["assignment"].items()},
        "latency_ratio_p50": {level: latency[level]["latency_ratio_p50"] for level in levels},
        "latency_ratio_p99": {level: latency[level]["latency_ratio_p99"] for level in levels},
        "cold_import_ratio": results["cold_start"]["cold_import_ratio"],
        "first_invocation_ms": {handler: results["cold_start"][f"{handler}_first_ms"]
                                for handler in ("ws_connect", "message_send")},
        "crypto_overhead_ratio": results["crypto"]["crypto_overhead_ratio"],
        "kms_calls_per_1000_messages": results["crypto"]["kms_calls_per_1000_messages"],
        "export_peak_mb": {size: m["peak_rss_mb"] for size, m in export.items()},
        "export_events_per_second": {size: m["events_per_second"] for size, m in export.items()},
        "monthly_usd": {name: base["monthly_usd"] for name, base in results["monthly"].items()},
        "reconcile_ddb_requests": {size: m["dynamodb_requests"]
                                   for size, m in results["reconcile"]["reconcile-capacity"].items()},
        "hand_back_ddb_requests": {size: m["dynamodb_requests"]
                                   for size, m in results["reconcile"]["hand-back"].items()},
        "audit_appends_per_second": {writers: m["appends_per_second"]
                                     for writers, m in results["audit_append"]["group_commit"].items()},
    }


def model() -> dict[str, Any]:
    """What the run takes as given, beside its settings: the cost model's assumptions, AWS limits and
    the constants the document names. Written into the results so that every figure of the document
    is in them."""
    return {
        "price_source": pricing.SOURCE, "prices_as_of": pricing.PRICES_AS_OF,
        "aws_round_trip_ms": 1000 * pricing.AWS_ROUND_TRIP_SECONDS, "lambda_memory_mb": 1024 * pricing.LAMBDA_MEMORY_GB,
        "floor_usd_per_message": pricing.FLOOR_PER_MESSAGE, "target_usd_per_message": pricing.TARGET_PER_MESSAGE,
        "amazon_connect_usd_per_message": pricing.AMAZON_CONNECT_CHAT_PER_MESSAGE,
        "agent_hours_per_month": monthly_model.AGENT_HOURS_PER_MONTH,
        "shifts_per_month": monthly_model.SHIFTS_PER_MONTH,
        "job_runs_per_month": monthly_model.JOB_RUNS_PER_MONTH, "jobs_per_tenant": monthly_model.JOBS_PER_TENANT,
        "log_retention_months": pricing.LOG_RETENTION_MONTHS,
        "log_bytes_per_invocation": pricing.LOG_BYTES_PER_INVOCATION,
        "latency_agent_capacity": AGENT_CAPACITY, "latency_load_test_limits": LOAD_TEST_LIMITS,
        "latency_paced_window_seconds": PACED_WINDOW_SECONDS, "latency_targets": LATENCY_TARGETS,
        "latency_paced_messages_per_conversation": PACED_MESSAGES_PER_CONVERSATION,
        "export_part_bytes": PART_BYTES, "query_page_mb": 1, "lambda_timeout_minutes": 15,
    }


# Issue #21's bounds: delivery at one conversation against the echo, and at the most against the one.
LATENCY_TARGETS = {"echo_ratio": 3, "burst_ratio": 5}


def targets(headline: dict[str, Any], results: dict[str, Any]) -> list[tuple[str, str, str, bool]]:
    """(target, measured, held to, met) for each target of the issue."""
    latency = _levels(results)
    levels = sorted(latency, key=int)
    exports = sorted(results["export"], key=int)
    peaks = [results["export"][size]["peak_rss_mb"] for size in exports]
    return [
        ("cost per delivered message", f"${headline['usd_per_message']:.7f}",
         f"≤ ${pricing.TARGET_PER_MESSAGE:.7f} (1.5 × floor ${pricing.FLOOR_PER_MESSAGE:.7f})",
         headline["usd_per_message"] <= pricing.TARGET_PER_MESSAGE),
        ("DynamoDB write units per steady-state message", f"{results['cost']['per_message']['write_units']:.3g}",
         "≤ 3", results["cost"]["per_message"]["write_units"] <= 3),
        ("DynamoDB requests per message and per assignment at every size",
         f"{sorted(set(headline['ddb_requests_per_message'].values()))} / "
         f"{sorted(set(headline['ddb_requests_per_assignment'].values()))}", "one value each",
         results["scaling"]["flat"]),
        *([(f"local delivery p50 / bare echo p50 at {levels[0]} conversation",
            f"{latency[levels[0]]['latency_ratio_p50']:.2f}×", f"≤ {LATENCY_TARGETS['echo_ratio']}×",
            latency[levels[0]]["latency_ratio_p50"] <= LATENCY_TARGETS["echo_ratio"]),
           (f"delivery p50 at {levels[-1]} conversations at once vs {levels[0]}",
            f"{latency[levels[-1]]['delivery_p50_ms']:.1f} ms vs {latency[levels[0]]['delivery_p50_ms']:.1f} ms",
            f"≤ {LATENCY_TARGETS['burst_ratio']}×",
            latency[levels[-1]]["delivery_p50_ms"]
            <= LATENCY_TARGETS["burst_ratio"] * latency[levels[0]]["delivery_p50_ms"]),
           *([(f"(beside it, not instead) delivery p50 at {levels[-1]} conversations at a human pace vs "
               f"{levels[0]}", f"{latency[levels[-1]]['paced_p50_ms']:.1f} ms vs "
               f"{latency[levels[0]]['delivery_p50_ms']:.1f} ms", f"≤ {LATENCY_TARGETS['burst_ratio']}×",
               latency[levels[-1]]["paced_p50_ms"]
               <= LATENCY_TARGETS["burst_ratio"] * latency[levels[0]]["delivery_p50_ms"])]
             if "paced_p50_ms" in latency[levels[-1]] else [])]
          if levels else [("local delivery latency", "not measured: " + results["latency"]["error"], "≤ 3× echo",
                           False)]),
        ("cold import of app.py / boto3", f"{headline['cold_import_ratio']:.2f}×", "≤ 1.4×",
         headline["cold_import_ratio"] <= 1.4),
        ("DynamoDB requests and read units of reconcile-capacity and of the hand-back, "
         f"behind {min(results['reconcile']['reconcile-capacity'], key=int)} to "
         f"{max(results['reconcile']['reconcile-capacity'], key=int)} closed conversations",
         f"{sorted(set(headline['reconcile_ddb_requests'].values()))} / "
         f"{sorted(set(headline['hand_back_ddb_requests'].values()))}", "one value each",
         results["reconcile"]["flat"]),
        (f"export peak memory at {exports[-1]} vs {exports[0]} events", f"{peaks[-1]:.0f} MB vs {peaks[0]:.0f} MB",
         "the same (within 10%)", peaks[-1] <= 1.1 * peaks[0]),
        _audit_append_target(results["audit_append"]),
    ]


def _audit_append_target(appends: dict[str, Any]) -> tuple[str, str, str, bool]:
    rates = appends["group_commit"]
    low, high = min(rates, key=int), max(rates, key=int)
    return (f"audit appends to one chain, {high} vs {low} writer(s) (modelled time)",
            f"{appends['group_commit_speedup']:.1f}× ({rates[high]['appends_per_second']:.0f}/s vs "
            f"{rates[low]['appends_per_second']:.0f}/s)", f"≥ {appends['target_speedup']:.0f}×", appends["target_met"])


def _levels(results: dict[str, Any]) -> dict[str, Any]:
    """The latency section's figures per concurrency level (none when it could not run)."""
    return {level: figures for level, figures in results["latency"].items() if level != "error"}


def table(results: dict[str, Any]) -> str:
    headline = summary(results)
    rows = [("target", "measured", "held to", "")] + [
        (name, measured, bound, "met" if met else "MISSED")
        for name, measured, bound, met in targets(headline, results)]
    widths = [max(len(row[i]) for row in rows) for i in range(4)]
    return "\n".join("  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)) for row in rows)


def write(results: dict[str, Any]) -> str:
    results["monthly"] = monthly_model.monthly(results)
    results["model"] = model()
    headline = summary(results)
    results_out = {**headline, "generated_at": datetime.now(UTC).isoformat(timespec="seconds"),
                   "prices": {"as_of": pricing.PRICES_AS_OF, "source": pricing.SOURCE,
                              "items": {name: vars(price) for name, price in pricing.PRICES.items()}},
                   "sections": results}
    RESULTS.write_text(json.dumps(results_out, indent=1, sort_keys=True, default=float) + "\n")
    CHART.write_text(_chart(results["cost"]))
    DOC.write_text(_document(results, headline))
    return (table(results) + f"\n\nwrote {RESULTS.relative_to(ROOT)}, {DOC.relative_to(ROOT)} "
            f"({results['seconds']:.0f} s)")


# --- docs/benchmarks.md ---------------------------------------------------------------------------
def _usd(value: float) -> str:
    return f"${value:,.2f}" if value >= 1 else f"${value:.7f}"


def _document(results: dict[str, Any], headline: dict[str, Any]) -> str:
    return render(results, headline, targets(headline, results), _usd)


def _chart(cost: dict[str, Any]) -> str:
    """A horizontal bar per priced item of one steady-state message, against the floor and the target."""
    items = sorted(cost["usd_per_message_by_item"].items(), key=lambda item: -item[1])
    scale = 460 / max(cost["usd_per_message"], pricing.TARGET_PER_MESSAGE)
    rows, y, x = [], 30, 0.0
    for name, usd in items:
        rows.append(f'<rect x="{170 + x * scale:.1f}" y="{y}" width="{max(usd * scale, 1):.1f}" height="16" '
                    'fill="#4a7bd0"/>'
                    f'<text x="165" y="{y + 12}" text-anchor="end">{name}</text>'
                    f'<text x="{175 + (x + usd) * scale:.1f}" y="{y + 12}">${usd:.7f}</text>')
        x += usd
        y += 22
    marks = "".join(f'<line x1="{170 + value * scale:.1f}" y1="20" x2="{170 + value * scale:.1f}" y2="{y}" '
                    f'stroke="{color}" stroke-dasharray="4 3"/><text x="{172 + value * scale:.1f}" y="{y + 14}" '
                    f'fill="{color}">{label}</text>'
                    for value, label, color in ((pricing.FLOOR_PER_MESSAGE, "floor", "#2a8a2a"),
                                                (pricing.TARGET_PER_MESSAGE, "target", "#c03030")))
    return (f'<svg xmlns="http://www.w3.org/2000/svg" width="760" height="{y + 30}" font-family="sans-serif" '
            f'font-size="12"><text x="10" y="14" font-weight="bold">USD per steady-state message, stacked by item '
            f'(total {_usd(cost["usd_per_message"])})</text>{"".join(rows)}{marks}</svg>\n')
