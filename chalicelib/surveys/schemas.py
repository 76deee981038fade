"""Survey answers and follow-ups at the edge."""
from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field

from ..web.schemas import Input, Output, Page, QueryInput


class SurveyAnswer(Input):
    rating: Annotated[int, Field(ge=1, le=5)]
    comment: Annotated[str, Field(max_length=1000)] | None = None


class SurveyAnswered(Output):
    conversation_id: str
    rating: int
    answered_at: str


class FollowUpQuery(QueryInput):
    status: Literal["open", "closed"] | None = None
    cursor: str | None = None


class FollowUpClose(Input):
    note: Annotated[str, Field(max_length=2000)] | None = None


class FollowUpOut(Output):
    follow_up_id: str
    conversation_id: str
    reason: Literal["unresolved", "low_rating"]
    agent_id: str | None
    rating: int | None
    status: Literal["open", "closed"]
    created_at: str
    closed_at: str | None
    closed_by: dict[str, str] | None
    note: str | None


class FollowUpList(Page):
    items: list[FollowUpOut]


class SurveyOut(Output):
    conversation_id: str
    agent_id: str | None = Field(description="who held the conversation when the survey was sent")
    channel: Literal["websocket", "email", "none"]
    sent_at: str
    expires_at: str
    rating: int | None
    comment: str | None
    comment_redacted: bool = Field(description="the visitor was erased or the conversation shredded")
    answered_at: str | None
