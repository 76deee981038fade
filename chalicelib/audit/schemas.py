"""Request and response models of the audit trail's routes."""
from __future__ import annotations

from typing import Any, Literal

from pydantic import ConfigDict, Field, field_validator

from ..web.schemas import Input, Output, Page, QueryInput, after_from
from ..web.schemas import UtcStamp as Stamp


class ExportIn(Input):
    range_from: Stamp = Field(alias="from", description="inclusive")
    range_to: Stamp = Field(alias="to", description="exclusive")
    _ordered = field_validator("range_to")(after_from)


class ExportAccepted(Output):
    export_id: str


class ExportStatus(Output):
    model_config = ConfigDict(extra="forbid", serialize_by_alias=True, validate_by_name=True)
    export_id: str
    status: Literal["pending", "ready", "failed"]
    range_from: str = Field(alias="from")
    range_to: str = Field(alias="to")
    created_at: str
    finished_at: str | None = None
    url: str | None = Field(default=None, description="time-limited download link (ready only)")
    url_expires_at: str | None = None
    sha256: str | None = Field(default=None, description="of the .jsonl.gz file")
    event_count: int | None = None
    size_bytes: int | None = None
    chain_intact: bool | None = Field(default=None, description="false: the stored events do not form a chain")
    broken_seq: int | None = None
    error: str | None = None


# What an action looks like ("conversation.closed"); ending in a dot, a prefix ("conversation.").
ACTION_FILTER = r"^[a-z][a-z0-9_]*(\.[a-z0-9_]+)*\.?$"
# Actor ids and targets are ids, job names, hashed sources, shortcuts: any printable text.
PRINTABLE = r"^[^\x00-\x1f\x7f]+$"


class EventsQuery(QueryInput):
    range_from: Stamp | None = Field(default=None, alias="from", description="inclusive")
    range_to: Stamp | None = Field(default=None, alias="to", description="exclusive")
    cursor: str | None = None
    action: str | None = Field(default=None, max_length=100, pattern=ACTION_FILTER,
                               description='exact ("auth.login"), or a prefix ending in a dot ("conversation.")')
    actor: str | None = Field(default=None, max_length=200, pattern=PRINTABLE,
                              description="the actor's id (an agent, an API key, a job such as `routing`)")
    target: str | None = Field(default=None, max_length=200, pattern=PRINTABLE, description="exact")
    _ordered = field_validator("range_to")(after_from)

    def filtered(self) -> bool:
        return bool(self.action or self.actor or self.target)


class Actor(Output):
    kind: str
    id: str


class AuditEvent(Output):
    seq: int
    ts: str
    actor: Actor
    action: str
    target: str
    details: dict[str, Any]
    prev_hash: str
    hash: str


class EventList(Page):
    items: list[AuditEvent]


class PublicKeyOut(Output):
    key_id: str
    algorithm: str
    public_key_pem: str


class PublicKeys(Output):
    keys: list[PublicKeyOut]


class Alarm(Output):
    broken_seq: int
    reason: str
    detected_at: str
    checkpoint_seq: int = Field(description="the last seq a signed digest vouched for when it was found")


class AlarmList(Page):
    items: list[Alarm]


class Digest(Output):
    seq: int
    digest: dict[str, Any]
    digest_hash: str
    algorithm: str
    key_id: str
    signature: str


class DigestList(Page):
    items: list[Digest]
