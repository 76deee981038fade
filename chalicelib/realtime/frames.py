"""Client frames (carry "action") and server frames (carry "type"), validated with pydantic."""
from __future__ import annotations

import json
from typing import Annotated, Any, Literal, TypeAlias, get_args

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, ValidationError, model_validator

from ..errors import validation_message

MAX_FRAME_BYTES = 32 * 1024
Id = Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_\-]+$")]
Team = Annotated[str, Field(min_length=1, max_length=50, pattern=r"^[\w\- ]+$")]


class ClientFrame(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)


class MessageSend(ClientFrame):
    action: Literal["message.send"]
    conversation_id: Id | None = None
    client_msg_id: Annotated[str, Field(min_length=1, max_length=64)]
    text: Annotated[str, Field(max_length=4000)] = ""
    attachment_ids: Annotated[list[Id], Field(max_length=10)] = Field(default_factory=list)

    @model_validator(mode="after")
    def _says_something(self) -> MessageSend:
        if not self.text and not self.attachment_ids:
            raise ValueError("text: 1 to 4000 characters (may be empty only with attachment_ids)")
        return self


class Typing(ClientFrame):
    action: Literal["typing"]
    conversation_id: Id
    state: Literal["on", "off"]


class Read(ClientFrame):
    action: Literal["read"]
    conversation_id: Id
    seq: Annotated[int, Field(ge=0)]


class HandoffRequest(ClientFrame):
    action: Literal["handoff.request"]
    conversation_id: Id


class PresenceSet(ClientFrame):
    action: Literal["presence.set"]
    status: Literal["online", "away", "offline"]


class ConversationTransfer(ClientFrame):
    action: Literal["conversation.transfer"]
    conversation_id: Id
    to_agent_id: Id | None = None
    to_team: Team | None = None

    @model_validator(mode="after")
    def _one_target(self) -> ConversationTransfer:
        if (self.to_agent_id is None) == (self.to_team is None):
            raise ValueError("give exactly one of to_agent_id and to_team")
        return self


class ConversationEscalate(ClientFrame):
    action: Literal["conversation.escalate"]
    conversation_id: Id


class ConversationClose(ClientFrame):
    action: Literal["conversation.close"]
    conversation_id: Id
    resolution: Literal["resolved", "unresolved"] | None = None


class MessagesSync(ClientFrame):
    """Added to the contract: after a reconnect, replay what came after the last seq the client has."""
    action: Literal["messages.sync"]
    conversation_id: Id
    after_seq: Annotated[int, Field(ge=0)]


class Ping(ClientFrame):
    action: Literal["ping"]


AnyClientFrame: TypeAlias = Annotated[
    MessageSend | Typing | Read | HandoffRequest | PresenceSet | ConversationTransfer
    | ConversationEscalate | ConversationClose | MessagesSync | Ping,
    Field(discriminator="action")]
CLIENT_FRAMES: tuple[type[ClientFrame], ...] = get_args(get_args(AnyClientFrame)[0])
ACTIONS = frozenset(get_args(model.model_fields["action"].annotation)[0] for model in CLIENT_FRAMES)
_ADAPTER: TypeAdapter[AnyClientFrame] = TypeAdapter(AnyClientFrame)


class FrameError(Exception):
    """A frame we refuse: answered with an error frame, the connection stays open."""

    def __init__(self, code: str, message: str, ref: str | None) -> None:
        super().__init__(message)
        self.code, self.message, self.ref = code, message, ref


def parse_client_frame(body: str | None) -> AnyClientFrame:
    raw = body or ""
    if len(raw.encode("utf-8", "surrogatepass")) > MAX_FRAME_BYTES:
        raise FrameError("frame_too_large", f"A frame may be at most {MAX_FRAME_BYTES} bytes.", None)
    try:
        data = json.loads(raw)
    except ValueError:
        raise FrameError("invalid_json", "The frame is not valid JSON.", None) from None
    except RecursionError:  # a few thousand brackets are within 32 KiB and past the parser's depth
        raise FrameError("invalid_frame", "The frame nests too deeply.", None) from None
    if not isinstance(data, dict):
        raise FrameError("invalid_frame", "A frame is one JSON object.", None)
    action = data.get("action")
    ref = data.get("client_msg_id") if isinstance(data.get("client_msg_id"), str) else None
    ref = ref or (action if isinstance(action, str) else None)
    if not isinstance(action, str) or action not in ACTIONS:
        raise FrameError("unknown_action", f"Unknown action {str(action)[:64]!r}.", ref)
    try:
        return _ADAPTER.validate_python(data)
    except ValidationError as exc:
        message, _ = validation_message(exc.errors(include_url=False))
        raise FrameError("invalid_frame", message.removeprefix(f"{action}."), ref) from None


def error_frame(code: str, message: str, ref: str | None, retry_after: str | None = None,
                conversation_id: str | None = None) -> dict[str, Any]:
    frame: dict[str, Any] = {"type": "error", "code": code, "message": message, "ref": ref}
    if conversation_id is not None:  # the frame named one: which sync, close or transfer failed
        frame["conversation_id"] = conversation_id
    if retry_after is not None:  # rate_limited: seconds until the same frame may go again
        frame["retry_after"] = int(retry_after)
    return frame
