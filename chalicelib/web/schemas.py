"""Base classes for the pydantic models at the edge."""
from __future__ import annotations

from pydantic import BaseModel, ConfigDict


class Input(BaseModel):
    """Request bodies and query strings: unknown fields and wrong types are errors, not guesses."""
    model_config = ConfigDict(extra="forbid", strict=True, str_strip_whitespace=True)


class Output(BaseModel):
    model_config = ConfigDict(extra="forbid")


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
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class Page(Output):
    next_cursor: str | None = None


class PageQuery(QueryInput):
    """?cursor= of a listing that pages with {items, next_cursor}."""
    cursor: str | None = None
