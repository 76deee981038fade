"""GET /v1/reports/conversations.csv: one row per conversation created in the range, read from the
fact items the counters keep beside them (counters.py), so the rows add up to the summary exactly."""
from __future__ import annotations

import csv
import io
from typing import Any

from ..access.principals import Principal
from ..errors import TooLarge
from ..runtime import runtime
from ..storage.reports import ReportCounterModel
from .counters import FACT_PREFIX
from .schemas import RangeQuery
from .summary import window

# A response must stay well under Lambda's 6 MB: about 200 bytes a row.
MAX_ROWS = 20_000
COLUMNS = ("conversation_id", "created_at", "opened", "closed", "closed_at", "resolution", "bot_contained",
           "abandoned", "first_response_seconds", "first_response_business_seconds", "sla_breached",
           "business_sla_breached", "first_response_agent_id", "handled", "handled_by", "handle_seconds",
           "csat_rating", "csat_agent_id")


def _cell(value: dict[str, str] | None) -> str:
    if value is None:
        return ""
    return value["S"] if "S" in value else value["N"]


def conversations_csv(principal: Principal, query: RangeQuery) -> str:
    _, _, first_hour, last_hour = window(query)
    pages = runtime().client("dynamodb").get_paginator("query").paginate(
        TableName=ReportCounterModel.Meta.table_name,
        KeyConditionExpression="tenant_id = :t AND #b BETWEEN :first AND :last",
        ExpressionAttributeNames={"#b": "bucket"},
        ExpressionAttributeValues={":t": {"S": principal.tenant_id}, ":first": {"S": FACT_PREFIX + first_hour},
                                   ":last": {"S": f"{FACT_PREFIX}{last_hour}#~"}}, ConsistentRead=True)
    facts: list[dict[str, Any]] = []
    for page in pages:
        facts += page["Items"]
        if len(facts) > MAX_ROWS:
            raise TooLarge(f"More than {MAX_ROWS} conversations: ask for a shorter range.", code="report_too_large")
    out = io.StringIO()
    rows = csv.writer(out, lineterminator="\n")
    rows.writerow(COLUMNS)
    for fact in facts:
        conversation_id = fact["bucket"]["S"].rsplit("#", 1)[1]
        rows.writerow([conversation_id, *(_cell(fact.get(column)) for column in COLUMNS[1:])])
    return out.getvalue()
