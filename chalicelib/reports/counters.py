"""Report counters: per tenant, per UTC hour (and per agent within the hour), kept with atomic ADD
as events happen, so a report reads O(hours) small items and never conversations or messages.

Every number about a conversation is counted in the hour the conversation was created, so a report
over a range describes the conversations that began in it (closing, answers and ratings included).

Beside the counters, each conversation has one fact item ("c#<hour>#<conversation id>", same table)
holding what was counted for it: the rows of GET /v1/reports/conversations.csv. The fact and the
counters it adds to change in one transaction, conditioned on the fact not having counted that event
yet, so the CSV's rows always add up to the summary, and an event counted twice is counted once.
"""
from __future__ import annotations

import random
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from botocore.exceptions import ClientError

from ..clock import iso
from ..runtime import runtime
from ..storage.conversations import ConversationModel
from ..storage.reports import ReportCounterModel
from ..storage.settings import Settings
from . import histogram
from .business_time import business_seconds

HOUR_FORMAT = "%Y-%m-%dT%H"
FACT_PREFIX = "c#"
# Transactions on one hour's item from concurrent events may conflict; each is retried with backoff.
CONFLICT_ATTEMPTS = 6
CONFLICT_BACKOFF_SECONDS = 0.02


def hour_of(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime(HOUR_FORMAT)


def agent_bucket(hour: str, agent_id: str) -> str:
    return f"{hour}#a#{agent_id}"


def fact_bucket(hour: str, conversation_id: str) -> str:
    return f"{FACT_PREFIX}{hour}#{conversation_id}"


def _value(value: str | float | int) -> dict[str, str]:
    return {"S": value} if isinstance(value, str) else {"N": str(value)}


def _adding(tenant_id: str, bucket: str, counts: Mapping[str, int]) -> dict[str, Any]:
    return {"Update": {
        "TableName": ReportCounterModel.Meta.table_name,
        "Key": {"tenant_id": {"S": tenant_id}, "bucket": {"S": bucket}},
        "UpdateExpression": "ADD " + ", ".join(f"#c{n} :c{n}" for n in range(len(counts))),
        "ExpressionAttributeNames": {f"#c{n}": name for n, name in enumerate(counts)},
        "ExpressionAttributeValues": {f":c{n}": {"N": str(value)} for n, value in enumerate(counts.values())}}}


def record(tenant_id: str, fact: str, fields: Mapping[str, str | float | int],
           counts: Mapping[str, Mapping[str, int]]) -> bool:
    """In one transaction: SET `fields` on the fact item (only if its first field is not there yet)
    and ADD each bucket's counts. False when the fact had counted this event already."""
    guard = next(iter(fields))
    names = {f"#f{n}": name for n, name in enumerate(fields)}
    items = [{"Update": {
        "TableName": ReportCounterModel.Meta.table_name,
        "Key": {"tenant_id": {"S": tenant_id}, "bucket": {"S": fact}},
        "UpdateExpression": "SET " + ", ".join(f"#f{n} = :f{n}" for n in range(len(fields))),
        "ConditionExpression": "attribute_not_exists(#f0)",
        "ExpressionAttributeNames": names,
        "ExpressionAttributeValues": {f":f{n}": _value(value) for n, value in enumerate(fields.values())}}}]
    items += [_adding(tenant_id, bucket, bucket_counts) for bucket, bucket_counts in counts.items() if bucket_counts]
    rt = runtime()
    for attempt in range(CONFLICT_ATTEMPTS):
        try:
            rt.client("dynamodb").transact_write_items(TransactItems=items)
            return True
        except ClientError as err:
            if err.response["Error"]["Code"] != "TransactionCanceledException":
                raise
            reasons = [reason.get("Code") for reason in err.response.get("CancellationReasons", [])]
            if reasons and reasons[0] == "ConditionalCheckFailed":
                return False  # this event of this conversation was counted already (`guard` is set)
            if "TransactionConflict" not in reasons or attempt == CONFLICT_ATTEMPTS - 1:
                raise
            rt.clock.sleep(CONFLICT_BACKOFF_SECONDS * 2 ** attempt * random.uniform(0.5, 1.5))
    raise AssertionError(guard)  # unreachable: the last attempt returns or raises


def _seconds(later: datetime, earlier: datetime) -> float:
    return round(max(0.0, (later - earlier).total_seconds()), 3)


# --- The events counted -----------------------------------------------------------------------
def conversation_opened(conversation: ConversationModel) -> None:
    hour = hour_of(conversation.created_at)
    record(conversation.tenant_id, fact_bucket(hour, conversation.conversation_id),
           {"opened": 1, "created_at": iso(conversation.created_at)}, {hour: {"conversations": 1}})


def first_response(conversation: ConversationModel, at: datetime, settings: Settings) -> None:
    """The first agent reply: its wait since the visitor asked for a person (or wrote, without a bot),
    in clock time and in the tenant's business hours, each against the SLA."""
    asked = conversation.queued_at or conversation.created_at
    waited = _seconds(at, asked)
    waited_open = round(business_seconds(settings, asked, at), 3)
    breached, breached_open = int(waited > settings.sla_first_response_seconds), int(
        waited_open > settings.sla_first_response_seconds)
    counts = {"first_responses": 1, f"frt_{histogram.bucket(waited)}": 1,
              f"bfrt_{histogram.bucket(waited_open)}": 1, "sla_breaches": breached,
              "business_sla_breaches": breached_open}
    counts = {name: n for name, n in counts.items() if n}
    hour, agent_id = hour_of(conversation.created_at), conversation.agent_id or ""
    record(conversation.tenant_id, fact_bucket(hour, conversation.conversation_id),
           {"first_response_seconds": waited, "first_response_business_seconds": waited_open,
            "sla_breached": breached, "business_sla_breached": breached_open, "first_response_agent_id": agent_id},
           {hour: counts, **({agent_bucket(hour, agent_id): counts} if agent_id else {})})


def conversation_closed(conversation: ConversationModel, status_before: str, closed_at: datetime,
                        resolution: str | None) -> None:
    """Abandoned: closed while waiting for a person (queued, or assigned with no agent reply yet),
    whoever closed it: the visitor leaving, an agent, a sweep."""
    hour = hour_of(conversation.created_at)
    handled = conversation.assigned_at is not None and bool(conversation.agent_id)
    abandoned = status_before in ("queued", "assigned") and conversation.first_response_at is None
    handle = _seconds(closed_at, conversation.assigned_at) if conversation.assigned_at is not None else None
    counts = {"closed": 1, "resolved": int(resolution == "resolved"), "unresolved": int(resolution == "unresolved"),
              # closed while the bot still held it: no human was needed
              "bot_contained": int(status_before == "bot"), "abandoned": int(abandoned), "handled": int(handled)}
    if handled and handle is not None:
        counts[f"handle_{histogram.bucket(handle)}"] = 1
    counts = {name: n for name, n in counts.items() if n}
    fields: dict[str, str | float | int] = {
        "closed": 1, "closed_at": iso(closed_at), "resolution": resolution or "",
        "bot_contained": counts.get("bot_contained", 0), "abandoned": int(abandoned), "handled": int(handled),
        "handled_by": conversation.agent_id if handled and conversation.agent_id else ""}
    buckets = {hour: counts}
    if handled and conversation.agent_id:
        fields["handle_seconds"] = handle if handle is not None else 0
        buckets[agent_bucket(hour, conversation.agent_id)] = {
            name: n for name, n in counts.items() if name == "handled" or name == "abandoned"
            or name.startswith("handle_")}
    record(conversation.tenant_id, fact_bucket(hour, conversation.conversation_id), fields, buckets)


def survey_answered(tenant_id: str, conversation_id: str, created_at: datetime, agent_id: str | None,
                    rating: int) -> None:
    hour = hour_of(created_at)
    counts = {"csat_responses": 1, "csat_sum": rating, f"csat_{rating}": 1}
    record(tenant_id, fact_bucket(hour, conversation_id), {"csat_rating": rating, "csat_agent_id": agent_id or ""},
           {hour: counts, **({agent_bucket(hour, agent_id): counts} if agent_id else {})})


def read(tenant_id: str, first_hour: str, last_hour: str) -> list[tuple[str, dict[str, int]]]:
    """(bucket, counters) of every bucket item of the hours first..last (inclusive), tenant totals
    and agents alike (facts, "c#...", sort after every hour and are not read)."""
    rt = runtime()
    pages = rt.client("dynamodb").get_paginator("query").paginate(
        TableName=ReportCounterModel.Meta.table_name,
        KeyConditionExpression="tenant_id = :t AND #b BETWEEN :first AND :last",
        ExpressionAttributeNames={"#b": "bucket"},
        ExpressionAttributeValues={":t": {"S": tenant_id}, ":first": {"S": first_hour},
                                   ":last": {"S": last_hour + "#~"}}, ConsistentRead=True)
    # Besides the two keys (strings), every attribute is a counter (a number).
    return [(item["bucket"]["S"], {name: int(value["N"]) for name, value in item.items() if "N" in value})
            for page in pages for item in page["Items"]]
