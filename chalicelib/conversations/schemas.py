"""REST views of conversations and their messages."""
from __future__ import annotations

from typing import Annotated, Literal

from pydantic import AfterValidator, Field, field_validator

from ..web.schemas import Input, Output, Page, QueryInput, UtcStamp, after_from
from .labels import MAX_LABEL_LENGTH, MAX_LABELS, label

Status = Literal["bot", "queued", "assigned", "closed"]
Channel = Literal["web", "email"]
# Taken as typed (up to twice the stored length: NFKC may shorten full-width forms), stored folded.
Label = Annotated[str, Field(min_length=1, max_length=2 * MAX_LABEL_LENGTH), AfterValidator(label)]


def _unique_in_order(labels: list[str]) -> list[str]:
    return list(dict.fromkeys(labels))


Labels = Annotated[list[Label], Field(max_length=MAX_LABELS), AfterValidator(_unique_in_order)]
NoteText = Annotated[str, Field(min_length=1, max_length=2000)]


class ConversationQuery(QueryInput):
    status: Status | None = None
    agent_id: str | None = Field(default=None, max_length=64, pattern=r"^[A-Za-z0-9_\-]+$",
                                 description="supervisors, admins, compliance: one agent's (agents: always their own)")
    team: str | None = Field(default=None, max_length=50, pattern=r"^([\w\- ]+|tier:\d{1,3}|\*)$",
                             description="the queue: a team name, tier:N, or * for any team")
    channel: Channel | None = None
    tag: Label | None = Field(default=None, description="a conversation label or a tag of its visitor")
    range_from: UtcStamp | None = Field(default=None, alias="from", description="opened at or after (inclusive)")
    range_to: UtcStamp | None = Field(default=None, alias="to", description="opened before (exclusive)")
    cursor: str | None = None
    _ordered = field_validator("range_to")(after_from)


class SearchQuery(ConversationQuery):
    q: str = Field(min_length=1, max_length=200, description="words that must all be found (Chinese needs no spaces)")
    text: bool = Field(default=False, description="also search the messages, decrypted server-side, "
                                                  "in at most 20 conversations a request (each read audited)")


class ConversationPatch(Input):
    labels: Labels = Field(description="replaces the labels (folded: NFKC, lower case; duplicates dropped)")
    labels_version: int = Field(ge=0, description="the labels_version read: 409 labels_changed if it moved since")


class NoteIn(Input):
    text: NoteText


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
    channel: Channel = "web"
    labels: list[str] = Field(default_factory=list)
    labels_version: int = 0


class ConversationRow(ConversationOut):
    """A conversation in a listing, with the names staff look for."""
    visitor_name: str | None = None
    visitor_email: str | None = None
    agent_name: str | None = None


class ConversationList(Page):
    items: list[ConversationRow]
    evaluated: int = Field(default=0, description="conversations this page looked at: a filtered page "
                                                 "may hold fewer items (even none) and still have a next_cursor")


class SearchHit(ConversationRow):
    matched: list[Literal["visitor", "labels", "tags", "agent", "status", "team", "id", "text"]]
    snippet: str | None = Field(default=None, description="around the first match in the messages (text search)")


class SearchResult(Page):
    items: list[SearchHit]
    evaluated: int
    text_searched: int = Field(default=0, description="conversations whose messages were decrypted and read")


class NoteOut(Output):
    note_id: str
    author_id: str
    author_name: str | None
    text: str | None = Field(description="null once the conversation's keys are destroyed (redacted)")
    created_at: str
    redacted: bool = False
    corrupted: bool = False


class NoteList(Page):
    items: list[NoteOut]


class RoutingDecision(Output):
    at: str
    event: Literal["bot", "queued", "assigned", "transferred", "escalated", "rerouted"]
    reason: str
    agent_id: str | None = None
    from_agent_id: str | None = None
    team: str | None = Field(default=None, description="the queue: a team, tier:N, or null (any team)")
    load: int | None = Field(default=None, description="the agent's load once assigned ...")
    capacity: int | None = Field(default=None, description="... of their capacity")


class RoutingList(Page):
    items: list[RoutingDecision] = Field(description="oldest first")


class Sender(Output):
    kind: Literal["visitor", "agent", "bot", "system"]
    id: str
    name: str | None


class AttachmentRef(Output):
    """A file sent with a message: download it with GET /v1/attachments/{attachment_id}."""
    attachment_id: str
    filename: str
    content_type: str
    size: int


class MessageOut(Output):
    seq: int
    sender: Sender
    text: str | None = Field(description="null when the message cannot be opened (see corrupted, redacted)")
    sent_at: str
    corrupted: bool = Field(default=False, description="the stored ciphertext failed its integrity check")
    redacted: bool = Field(default=False, description="its key was destroyed: visitor erasure or retention")
    attachments: list[AttachmentRef] = Field(default_factory=list, description="the files sent with it")
    email_status: Literal["sent", "suppressed", "capped", "unsendable"] | None = Field(
        default=None, description="an agent's message that went out as an email reply: sent, or why not "
        "(the address bounced or complained, a daily cap, an address that takes no mail); null otherwise")


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
