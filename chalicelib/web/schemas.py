"""Base classes for the pydantic models at the edge."""
from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any, ClassVar

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    EmailStr,
    Field,
    ValidationInfo,
    model_validator,
)


# defer_build: a model's validator is built on its first use, not when its class is made, so a cold
# start builds only the models of the requests it serves (every route module defines its models).
class Input(BaseModel):
    """Request bodies and query strings: unknown fields and wrong types are errors, not guesses."""
    model_config = ConfigDict(extra="forbid", strict=True, str_strip_whitespace=True, defer_build=True)


class Output(BaseModel):
    model_config = ConfigDict(extra="forbid", defer_build=True)


# Fields several capabilities take in: an agent's or a visitor's email and team.
Email = Annotated[EmailStr, AfterValidator(str.lower)]
Team = Annotated[str, Field(min_length=1, max_length=50, pattern=r"^[\w\- ]+$")]


class ErrorDetail(Output):
    field: str
    message: str


class ErrorBody(Output):
    code: str
    message: str
    details: list[ErrorDetail] | None = None


class ErrorResponse(Output):
    error: ErrorBody


class QueryInput(BaseModel):
    """Query strings arrive as text, so numbers are converted; unknown names are still errors."""
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True, defer_build=True)


class Page(Output):
    next_cursor: str | None = None


class PageQuery(QueryInput):
    """?cursor= of a listing that pages with {items, next_cursor}."""
    cursor: str | None = None


# Nothing in Switchboard is older than 1970; the floor keeps ranges computed back from a time (a
# report's default 30 days) and four-digit years in the UTC form clear of the calendar's ends.
EARLIEST = datetime(1970, 1, 1, tzinfo=UTC)


def _utc_second(value: Any) -> Any:
    """ISO 8601 with a time zone, as the contract's UTC form ("2026-11-23T10:15:00Z")."""
    if not isinstance(value, str):
        return value
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise ValueError("expected an ISO 8601 time such as 2026-11-23T10:15:00Z") from None
    if moment.tzinfo is None:
        raise ValueError("the time needs a zone: end it with Z for UTC")
    try:
        utc: datetime | None = moment.astimezone(UTC)
    except OverflowError:  # 0001-01-01T00:00:00+14:00 is before year 1 in UTC, 9999-12-31T23:59:59-14:00 after 9999
        utc = None
    if utc is None or utc < EARLIEST:
        raise ValueError("expected a time from 1970-01-01T00:00:00Z to 9999-12-31T23:59:59Z")
    return utc.strftime("%Y-%m-%dT%H:%M:%SZ")


UtcStamp = Annotated[str, BeforeValidator(_utc_second)]


def after_from(value: str | None, info: ValidationInfo) -> str | None:
    """A range's `to` (field range_to), checked against its `from` (range_from)."""
    start = info.data.get("range_from")
    if value is not None and start is not None and value <= start:
        raise ValueError("must be after from")
    return value


class PatchInput(Input):
    """A partial update: absent fields stay as they are; null clears only where null means something."""
    nullable: ClassVar[frozenset[str]] = frozenset()

    @model_validator(mode="before")
    @classmethod
    def _refuse_nulls(cls, data: object) -> object:
        if isinstance(data, dict):
            for name, value in data.items():
                if value is None and name not in cls.nullable:
                    raise ValueError(f"{name} may not be null")
        return data


class DemoQuery(QueryInput):
    """GET /demo (chalicelib/web/pages.py)."""
    widget_key: str = Field("", max_length=200, description="the tenant whose widget the page carries")
    preview: bool = Field(False, description="the widget as the console's live preview: open, sending nothing")
