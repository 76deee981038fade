"""The monthly bill at three customer bases, from the cost model's figures: the assumptions about
customers (docs/benchmarks.md states them) and the arithmetic."""
from __future__ import annotations

from pathlib import Path
from typing import Any

from . import pricing
from .cost import JOBS, MESSAGES_PER_CONVERSATION
from .metering import Tally

TEMPLATE = Path(__file__).resolve().parents[1] / "infra" / "template.yaml"

# Customer bases for monthly_usd: tenants, conversations a month, agents online per tenant.
CUSTOMER_BASES = {"small": (10, 5_000, 2), "medium": (200, 100_000, 3), "large": (2_000, 2_000_000, 5)}
AGENT_HOURS_PER_MONTH = 160  # each agent online a working month; one connect and disconnect a day
SHIFTS_PER_MONTH = 20
# The items with a column of their own in docs/benchmarks.md; the rest are its fixed column.
NOT_FIXED = ("conversations", "agents_connected", "scheduled_jobs")
MINUTES_PER_MONTH = 30 * 24 * 60
# Each scheduled job's runs a month at app.py's rates (the configurable ones at their defaults).
JOB_RUNS_PER_MONTH = {"reroute-stale": MINUTES_PER_MONTH, "send-surveys": MINUTES_PER_MONTH // 5,
                      "retention": MINUTES_PER_MONTH // 60, "audit-verify": 30,
                      "reconcile-capacity": MINUTES_PER_MONTH // 15, "audit-login-failures": MINUTES_PER_MONTH // 5}
# The jobs that read every tenant (their idle run is the workload's one tenant's); the others query
# fixed shards whatever the tenants.
JOBS_PER_TENANT = ("audit-verify", "reconcile-capacity")


def monthly(results: dict[str, Any]) -> dict[str, Any]:
    cost = results["cost"]
    resources = pricing.template_resources(TEMPLATE)
    fixed_items = {"kms_keys": pricing.PRICES["kms_keys"].of(resources["AWS::KMS::Key"]),
                   "secrets": pricing.PRICES["secrets"].of(resources["AWS::SecretsManager::Secret"]),
                   "cloudwatch_alarms": pricing.PRICES["cloudwatch_alarms"].of(resources["AWS::CloudWatch::Alarm"])}
    idle = {job: cost["phases"][f"idle:{job}"]["usd"] for job in JOBS}
    out = {}
    for name, (tenants, conversations, agents) in CUSTOMER_BASES.items():
        agent_minutes = tenants * agents * AGENT_HOURS_PER_MONTH * 60
        shifts = Tally(invocations=2 * tenants * agents * SHIFTS_PER_MONTH)
        jobs = sum(idle[job] * runs * (tenants if job in JOBS_PER_TENANT else 1)
                   for job, runs in JOB_RUNS_PER_MONTH.items())
        conversations_usd = cost["usd_per_1000_conversations"] * conversations / 1000
        agents_usd = sum(pricing.usd_of(pricing.priced_quantities(shifts, agent_minutes)).values())
        logs_gb = (cost["lambda_invocations_per_conversation"] * conversations + shifts.invocations
                   + sum(JOB_RUNS_PER_MONTH.values())) * pricing.LOG_BYTES_PER_INVOCATION / 1e9
        items = {"conversations": conversations_usd, "agents_connected": agents_usd, "scheduled_jobs": jobs,
                 **fixed_items,
                 "log_storage": pricing.PRICES["cloudwatch_logs_storage"].of(logs_gb * pricing.LOG_RETENTION_MONTHS)}
        out[name] = {"tenants": tenants, "conversations_per_month": conversations, "agents_per_tenant": agents,
                     "messages_per_month": conversations * MESSAGES_PER_CONVERSATION,
                     "usd_by_item": items, "monthly_usd": sum(items.values()),
                     "usd_fixed": sum(usd for item, usd in items.items() if item not in NOT_FIXED)}
    return out
