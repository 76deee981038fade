"""Request and response models for visitor profiles."""
from __future__ import annotations

from typing import Annotated, Literal

from pydantic import AfterValidator, Field

from ..conversations.schemas import ConversationOut
from ..web.schemas import Output, PatchInput

Tag = Annotated[str, Field(min_length=1, max_length=30, pattern=r"^[\w\- ]+$")]


def _unique_in_order(tags: list[str]) -> list[str]:
    return list(dict.fromkeys(tags))


Tags = Annotated[list[Tag], Field(max_length=20), AfterValidator(_unique_in_order)]
Notes = Annotated[str, Field(max_length=2000)]


class VisitorPatch(PatchInput):
    tags: Tags | None = Field(default=None, description="replaces the tags; duplicates are dropped")
    notes: Notes | None = Field(default=None, description='replaces the notes; "" clears them')


class PossibleMatch(Output):
    """An unverified hint: an email proves nothing, so this is never the same person's history."""
    visitor_id: str = Field(description="an earlier visitor who gave the same email")
    basis: Literal["same_email"] = "same_email"
    verified: Literal[False] = Field(default=False, description="always false: never merged, never shown to the visitor")


class VisitorProfile(Output):
    visitor_id: str
    name: str | None
    email: str | None
    locale: str | None
    team: str | None
    user_id: str | None = Field(default=None, description="the tenant's user id, verified by its identity secret")
    tags: list[str]
    notes: str
    possible_match: PossibleMatch | None = Field(
        default=None, description="UNVERIFIED: an earlier visitor with the same email (a hint only)")
    created_at: str
    last_seen_at: str
    erased_at: str | None = Field(default=None, description="set once erased: every personal field is gone")
    conversations: list[ConversationOut] = Field(description="this visitor's latest 20, newest first")


class ErasureOut(Output):
    visitor_id: str
    erased_at: str
    conversations_shredded: int = Field(description="conversations whose keys this request destroyed")
