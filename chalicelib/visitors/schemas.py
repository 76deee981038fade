"""Request and response models for visitor profiles."""
from __future__ import annotations

from typing import Annotated

from pydantic import AfterValidator, Field

from ..conversations.schemas import ConversationOut
from ..tenancy.schemas import PatchInput
from ..web.schemas import Output

Tag = Annotated[str, Field(min_length=1, max_length=30, pattern=r"^[\w\- ]+$")]


def _unique_in_order(tags: list[str]) -> list[str]:
    return list(dict.fromkeys(tags))


Tags = Annotated[list[Tag], Field(max_length=20), AfterValidator(_unique_in_order)]
Notes = Annotated[str, Field(max_length=2000)]


class VisitorPatch(PatchInput):
    tags: Tags | None = Field(default=None, description="replaces the tags; duplicates are dropped")
    notes: Notes | None = Field(default=None, description='replaces the notes; "" clears them')


class VisitorProfile(Output):
    visitor_id: str
    name: str | None
    email: str | None
    locale: str | None
    team: str | None
    tags: list[str]
    notes: str
    known_as: str | None = Field(default=None, description="an earlier visitor with the same email (unverified)")
    created_at: str
    last_seen_at: str
    erased_at: str | None = Field(default=None, description="set once erased: every personal field is gone")
    conversations: list[ConversationOut] = Field(description="the latest 20, newest first")


class ErasureOut(Output):
    visitor_id: str
    erased_at: str
    conversations_shredded: int = Field(description="conversations whose keys this request destroyed")
