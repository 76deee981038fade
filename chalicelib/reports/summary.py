"""GET /v1/reports/summary: sums of the hourly counters of a range, and the CSV of it."""
from __future__ import annotations

import csv
import io
from collections import Counter, defaultdict
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from ..access.principals import Principal
from ..errors import InvalidInput
from ..storage.settings import Settings
from ..storage.tenants import get_tenant
from . import histogram
from .counters import HOUR_FORMAT, hour_of, read
from .schemas import AgentRow, Csat, FirstResponse, Handle, HourRow, RangeQuery, Summary, SummaryQuery

# A report covers whole hours; the longest range keeps the read bounded (about 9,000 hours).
MAX_RANGE = timedelta(days=366)


def _histogram(counts: Counter[str], prefix: str) -> dict[int, int]:
    return {int(name[len(prefix):]): value for name, value in counts.items() if name.startswith(prefix) and value}


def window(query: RangeQuery) -> tuple[datetime, datetime, str, str]:
    """The range's start and end, and its first and last UTC hour (the buckets read)."""
    end = query.end()
    start = query.start(end)
    if end - start > MAX_RANGE:
        raise InvalidInput(f"to: a report covers at most {MAX_RANGE.days} days")
    return start, end, hour_of(start), hour_of(end - timedelta(microseconds=1))


def summary(principal: Principal, query: SummaryQuery) -> Summary:
    settings = Settings.model_validate(get_tenant(principal.tenant_id).settings)
    start, end, first_hour, last_hour = window(query)
    # In business hours: the histogram and breaches of the waits counted in open time only.
    frt_prefix, breaches = ("bfrt_", "business_sla_breaches") if query.hours == "business" else ("frt_", "sla_breaches")
    zone = ZoneInfo(settings.timezone)
    totals: Counter[str] = Counter()
    agents: defaultdict[str, Counter[str]] = defaultdict(Counter)
    by_local_hour: Counter[int] = Counter()
    for bucket, item in read(principal.tenant_id, first_hour, last_hour):
        hour, _, agent_id = bucket.partition("#a#")
        if agent_id:
            agents[agent_id].update(item)
            continue
        totals.update(item)
        started = datetime.strptime(hour, HOUR_FORMAT).replace(tzinfo=UTC)
        by_local_hour[started.astimezone(zone).hour] += item.get("conversations", 0)
    closed, resolved = totals["closed"], totals["resolved"]
    frt, handle = _histogram(totals, frt_prefix), _histogram(totals, "handle_")
    by_hour = [HourRow(hour=h, conversations=by_local_hour[h]) for h in range(24)]
    busiest = max(by_local_hour.values(), default=0)
    return Summary(
        **{"from": start.strftime("%Y-%m-%dT%H:%M:%SZ"), "to": end.strftime("%Y-%m-%dT%H:%M:%SZ")},
        timezone=settings.timezone, hours=query.hours, conversations=totals["conversations"], closed=closed,
        resolved=resolved,
        unresolved=totals["unresolved"], resolution_rate=round(resolved / closed, 4) if closed else None,
        first_response_seconds=FirstResponse(p50=histogram.percentile(frt, 0.5), p90=histogram.percentile(frt, 0.9),
                                             p95=histogram.percentile(frt, 0.95), count=totals["first_responses"]),
        handle_seconds=Handle(p50=histogram.percentile(handle, 0.5), count=totals["handled"]),
        csat=_csat(totals), bot_contained=totals["bot_contained"], abandoned=totals["abandoned"],
        sla_breaches=totals[breaches],
        by_hour=by_hour, peak_hours=[h for h in range(24) if busiest and by_local_hour[h] == busiest],
        by_agent=[_agent_row(agent_id, c, frt_prefix, breaches) for agent_id, c in sorted(agents.items())])


def _agent_row(agent_id: str, counts: Counter[str], frt_prefix: str, breaches: str) -> AgentRow:
    frt = _histogram(counts, frt_prefix)
    return AgentRow(agent_id=agent_id, conversations=counts["handled"], csat_average=_csat(counts).average,
                    csat_responses=counts["csat_responses"], first_responses=counts["first_responses"],
                    first_response_p50=histogram.percentile(frt, 0.5),
                    first_response_p90=histogram.percentile(frt, 0.9),
                    sla_breaches=counts[breaches], abandoned=counts["abandoned"])


def _csat(counts: Counter[str]) -> Csat:
    responses = counts["csat_responses"]
    return Csat(responses=responses, average=round(counts["csat_sum"] / responses, 2) if responses else None,
                distribution={str(r): counts[f"csat_{r}"] for r in range(1, 6)})


def summary_csv(report: Summary) -> str:
    """Long format, one number a row: section, name, value (pivots in any spreadsheet)."""
    out = io.StringIO()
    rows = csv.writer(out, lineterminator="\n")
    rows.writerow(["section", "name", "value"])
    rows.writerow(["total", "hours", report.hours])
    for name in ("conversations", "closed", "resolved", "unresolved", "resolution_rate", "bot_contained",
                 "abandoned", "sla_breaches"):
        rows.writerow(["total", name, _cell(getattr(report, name))])
    rows.writerows([["total", "first_response_p50", _cell(report.first_response_seconds.p50)],
                    ["total", "first_response_p90", _cell(report.first_response_seconds.p90)],
                    ["total", "first_response_p95", _cell(report.first_response_seconds.p95)],
                    ["total", "handle_p50", _cell(report.handle_seconds.p50)],
                    ["total", "csat_responses", report.csat.responses],
                    ["total", "csat_average", _cell(report.csat.average)]])
    rows.writerows(["csat_distribution", rating, n] for rating, n in report.csat.distribution.items())
    rows.writerows([f"by_hour ({report.timezone})", row.hour, row.conversations] for row in report.by_hour)
    for agent in report.by_agent:
        rows.writerows([[f"agent {agent.agent_id}", "conversations", agent.conversations],
                        [f"agent {agent.agent_id}", "csat_average", _cell(agent.csat_average)],
                        [f"agent {agent.agent_id}", "first_response_p50", _cell(agent.first_response_p50)],
                        [f"agent {agent.agent_id}", "first_response_p90", _cell(agent.first_response_p90)],
                        [f"agent {agent.agent_id}", "sla_breaches", agent.sla_breaches],
                        [f"agent {agent.agent_id}", "abandoned", agent.abandoned]])
    return out.getvalue()


def _cell(value: object) -> object:
    return "" if value is None else value
