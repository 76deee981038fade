"""Request and response models for canned responses."""
from __future__ import annotations

from typing import Annotated

from pydantic import AfterValidator, Field

from ..web.schemas import Input, Output, Page


def _without_slash(shortcut: str) -> str:
    return shortcut.removeprefix("/")


Shortcut = Annotated[str, Field(pattern=r"^/?[a-z0-9][a-z0-9_-]{0,31}$",
                                description='"refund" or "/refund"; stored without the slash'),
                     AfterValidator(_without_slash)]


class CannedIn(Input):
    """POST creates; PUT replaces whole, and a new shortcut renames (the id changes with it)."""
    shortcut: Shortcut
    text: Annotated[str, Field(min_length=1, max_length=2000)]


class CannedOut(Output):
    canned_id: str = Field(description="the shortcut without its slash: the id in /v1/canned-responses/{canned_id}")
    shortcut: str
    text: str
    created_at: str
    updated_at: str


class CannedList(Page):
    items: list[CannedOut]
