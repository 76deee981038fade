"""Response models for the tenant's key versions."""
from __future__ import annotations

from pydantic import Field

from ..web.schemas import Output


class KeyVersionOut(Output):
    version: int
    created_at: str
    current: bool = Field(description="new messages are sealed under this version")


class KeysOut(Output):
    current_version: int
    versions: list[KeyVersionOut]
