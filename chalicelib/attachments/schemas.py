"""Attachments at the REST edge."""
from __future__ import annotations

from typing import Annotated, Literal

from pydantic import AfterValidator, Field

from ..web.schemas import Input, Output


def _plain_name(name: str) -> str:
    """The last part of a path some browsers send, with no control characters."""
    name = name.replace("\\", "/").rsplit("/", 1)[-1].strip()
    if not name or name in (".", "..") or any(ord(char) < 32 or ord(char) == 127 for char in name):
        raise ValueError("a file name, without control characters or a path")
    return name


class UploadIn(Input):
    filename: Annotated[str, Field(min_length=1, max_length=255), AfterValidator(_plain_name)]
    content_type: str = Field(min_length=3, max_length=200, description="the file's media type, e.g. image/png")
    size: int = Field(ge=1, description="bytes; at most the tenant's attachments_max_bytes (413 attachment_too_large)")


class PresignedPost(Output):
    url: str = Field(description="POST a multipart/form-data form here: every field below, then the file as `file`")
    fields: dict[str, str]


class UploadOut(Output):
    attachment_id: str
    status: Literal["pending"]
    upload: PresignedPost
    expires_in: int = Field(description="seconds the upload policy stays valid")


class AttachmentOut(Output):
    attachment_id: str
    conversation_id: str
    status: Literal["pending", "ready", "rejected"] = Field(
        description="pending: not uploaded or not checked yet; ready: checked, may be sent; rejected: its bytes "
                    "were not of the declared, accepted type (or too large) and were deleted")
    filename: str
    content_type: str
    size: int
