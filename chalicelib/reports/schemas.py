"""The report's query and answer (../shared/contract.md, plus documented additions)."""
from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Literal

from pydantic import ConfigDict, Field, field_validator

from ..runtime import runtime
from ..web.schemas import Output, QueryInput, UtcStamp, after_from

DEFAULT_DAYS = 30


class RangeQuery(QueryInput):
    """The conversations created in [from, to): whole UTC hours, at most 366 days (summary.py)."""
    range_from: UtcStamp | None = Field(default=None, alias="from",
                                        description="inclusive, to the hour; default: `to` minus 30 days")
    range_to: UtcStamp | None = Field(default=None, alias="to", description="exclusive, to the hour; default: now")
    _ordered = field_validator("range_to")(after_from)

    def end(self) -> datetime:
        return _parse(self.range_to) if self.range_to else runtime().clock.utcnow()

    def start(self, end: datetime) -> datetime:
        return _parse(self.range_from) if self.range_from else end - timedelta(days=DEFAULT_DAYS)


class SummaryQuery(RangeQuery):
    hours: Literal["clock", "business"] = Field(
        default="clock", description="business: first response and SLA counted in the tenant's business hours only")


def _parse(stamp: str) -> datetime:
    return datetime.strptime(stamp, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)


class FirstResponse(Output):
    p50: float | None
    p90: float | None
    p95: float | None
    count: int


class Handle(Output):
    p50: float | None
    count: int


class Csat(Output):
    responses: int
    average: float | None
    distribution: dict[str, int]


class HourRow(Output):
    hour: int = Field(ge=0, le=23, description="hour of day in the tenant's timezone")
    conversations: int


class AgentRow(Output):
    agent_id: str
    conversations: int = Field(description="conversations the agent held when they closed")
    csat_average: float | None
    csat_responses: int
    first_responses: int
    first_response_p50: float | None
    first_response_p90: float | None
    sla_breaches: int = Field(description="in the report's `hours`")
    abandoned: int = Field(description="held by the agent, closed before any agent reply")


class Summary(Output):
    model_config = ConfigDict(extra="forbid", serialize_by_alias=True, validate_by_name=True)
    range_from: str = Field(alias="from")
    range_to: str = Field(alias="to")
    timezone: str
    hours: Literal["clock", "business"] = Field(description="how first response and SLA were measured")
    conversations: int
    closed: int
    resolved: int
    unresolved: int
    resolution_rate: float | None = Field(description="resolved / closed")
    first_response_seconds: FirstResponse
    handle_seconds: Handle
    csat: Csat
    bot_contained: int
    abandoned: int = Field(description="closed while waiting for a person, before any agent reply")
    sla_breaches: int
    by_hour: list[HourRow]
    peak_hours: list[int]
    by_agent: list[AgentRow]
