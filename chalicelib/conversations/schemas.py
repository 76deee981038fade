"""REST views of conversations and their messages."""
from __future__ import annotations

from typing import Literal

from pydantic import Field

from ..web.schemas import Output, Page, QueryInput

Status = Literal["bot", "queued", "assigned", "closed"]


class ConversationQuery(QueryInput):
    status: Status | None = None
    agent_id: str | None = Field(default=None, max_length=64, pattern=r"^[A-Za-z0-9_\-]+$")
    cursor: str | None = None


class MessagesQuery(QueryInput):
    cursor: str | None = None


class TranscriptQuery(QueryInput):
    format: Literal["json", "text"] = "json"


class ConversationOut(Output):
    conversation_id: str
    status: Status
    visitor_id: str
    agent_id: str | None
    team: str | None
    priority: int
    last_seq: int
    resolution: str | None
    created_at: str
    queued_at: str | None
    assigned_at: str | None
    first_response_at: str | None
    closed_at: str | None
    shredded_at: str | None = Field(
        description="when the conversation's keys were destroyed (visitor erasure or retention)")


class ConversationList(Page):
    items: list[ConversationOut]


class Sender(Output):
    kind: Literal["visitor", "agent", "bot", "system"]
    id: str
    name: str | None


class MessageOut(Output):
    seq: int
    sender: Sender
    text: str | None = Field(description="null when the message cannot be opened (see corrupted, redacted)")
    sent_at: str
    corrupted: bool = Field(default=False, description="the stored ciphertext failed its integrity check")
    redacted: bool = Field(default=False, description="its key was destroyed: visitor erasure or retention")


class MessageList(Page):
    items: list[MessageOut]


class Transcript(Output):
    conversation: ConversationOut
    messages: list[MessageOut]
    exported_at: str


class QueueItem(Output):
    conversation_id: str
    visitor_id: str
    team: str | None = Field(description="the queue: a team, tier:N for escalations, null for any team")
    priority: int
    queued_at: str
    position: int = Field(description="1 = next in its own queue")


class QueueList(Output):
    items: list[QueueItem] = Field(description="in the order routing takes them: priority, then oldest")
