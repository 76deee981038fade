"""Report counters: per tenant, per UTC hour (and per agent within the hour), kept with atomic ADD
as events happen, so a report reads O(hours) small items and never conversations or messages.

Every number about a conversation is counted in the hour the conversation was created, so a report
over a range describes the conversations that began in it (closing, answers and ratings included).
"""
from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime

from ..runtime import runtime
from ..storage.conversations import ConversationModel
from ..storage.reports import ReportCounterModel
from ..storage.settings import Settings
from . import histogram

HOUR_FORMAT = "%Y-%m-%dT%H"


def hour_of(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime(HOUR_FORMAT)


def agent_bucket(hour: str, agent_id: str) -> str:
    return f"{hour}#a#{agent_id}"


def add(tenant_id: str, bucket: str, counts: Mapping[str, int]) -> None:
    """One UpdateItem: ADD each count to the bucket's item (made on first use)."""
    if not counts:
        return
    rt = runtime()
    names = {f"#c{n}": name for n, name in enumerate(counts)}
    rt.client("dynamodb").update_item(
        TableName=ReportCounterModel.Meta.table_name,
        Key={"tenant_id": {"S": tenant_id}, "bucket": {"S": bucket}},
        UpdateExpression="ADD " + ", ".join(f"#c{n} :c{n}" for n in range(len(counts))),
        ExpressionAttributeNames=names,
        ExpressionAttributeValues={f":c{n}": {"N": str(value)} for n, value in enumerate(counts.values())})


def _seconds(later: datetime, earlier: datetime) -> float:
    return max(0.0, (later - earlier).total_seconds())


# --- The events counted -----------------------------------------------------------------------
def conversation_opened(conversation: ConversationModel) -> None:
    add(conversation.tenant_id, hour_of(conversation.created_at), {"conversations": 1})


def first_response(conversation: ConversationModel, at: datetime, settings: Settings) -> None:
    """The first agent reply: its wait since the visitor asked for a person (or wrote, without a bot)."""
    waited = _seconds(at, conversation.queued_at or conversation.created_at)
    frt = f"frt_{histogram.bucket(waited)}"
    hour = hour_of(conversation.created_at)
    add(conversation.tenant_id, hour, {"first_responses": 1, frt: 1,
                                       **({"sla_breaches": 1} if waited > settings.sla_first_response_seconds else {})})
    add(conversation.tenant_id, agent_bucket(hour, conversation.agent_id), {"first_responses": 1, frt: 1})


def conversation_closed(conversation: ConversationModel, status_before: str, closed_at: datetime,
                        resolution: str | None) -> None:
    hour = hour_of(conversation.created_at)
    counts = {"closed": 1}
    if resolution in ("resolved", "unresolved"):
        counts[resolution] = 1
    if status_before == "bot":
        counts["bot_contained"] = 1  # closed while the bot still held it: no human was needed
    if conversation.assigned_at is not None and conversation.agent_id:
        handle = f"handle_{histogram.bucket(_seconds(closed_at, conversation.assigned_at))}"
        counts.update({"handled": 1, handle: 1})
        add(conversation.tenant_id, agent_bucket(hour, conversation.agent_id), {"handled": 1, handle: 1})
    add(conversation.tenant_id, hour, counts)


def survey_answered(tenant_id: str, created_at: datetime, agent_id: str | None, rating: int) -> None:
    hour = hour_of(created_at)
    counts = {"csat_responses": 1, "csat_sum": rating, f"csat_{rating}": 1}
    add(tenant_id, hour, counts)
    if agent_id:
        add(tenant_id, agent_bucket(hour, agent_id), counts)


def read(tenant_id: str, first_hour: str, last_hour: str) -> list[tuple[str, dict[str, int]]]:
    """(bucket, counters) of every bucket item of the hours first..last (inclusive), tenant totals
    and agents alike."""
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
