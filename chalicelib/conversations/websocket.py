"""The WebSocket $connect, $disconnect and $default logic behind app.py's thin handlers."""
from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from pynamodb.exceptions import DoesNotExist

from .. import ratelimit
from ..access import origins
from ..access.principals import Principal, principal_from_token
from ..errors import ApiError, Forbidden, RateLimited, Unauthorized, dependency_failed
from ..realtime import connections, frames
from ..realtime.sender import sender
from ..runtime import runtime
from ..storage.connections import ConnectionModel
from ..storage.settings import Settings
from ..storage.tenants import TenantModel
from ..storage.visitors import VisitorModel
from . import closing, messages, opening, presence, transfers
from .parties import conversation_for

log = logging.getLogger("switchboard.ws")

Reply = list[dict[str, Any]]


def on_connect(connection_id: str, query: dict[str, str] | None,
               headers: dict[str, str] | None = None) -> dict[str, Any]:
    """Refuse at connect any missing, bad or expired token, a browser page whose origin the tenant
    does not allow, and a visitor at their limit of connections, each with its status and code;
    otherwise record who this is."""
    token = (query or {}).get("token") or ""
    try:
        principal, name = _ws_principal(token)
        origins.check(origins.origin_header(headers), lambda: _allowed_origins(principal.tenant_id),
                      principal.tenant_id, "ws connect")
        connections.record(connection_id, principal, name)
    except ApiError as err:
        return {"statusCode": err.status, "body": err.code}
    if principal.kind == "agent":
        presence.clear_lapse(principal.tenant_id, principal.id)  # back within the grace period: nothing lapses
    return {"statusCode": 200}


def _ws_principal(token: str) -> tuple[Principal, str | None]:
    if not token or token.startswith("sbk."):
        # API keys are for servers calling REST; a WebSocket is an agent's or a visitor's.
        raise Unauthorized("An agent or visitor token is required.")
    principal = principal_from_token(token, allow_visitor=True)
    if principal.session is not None and principal.session.enrolment_only:
        raise Forbidden("Set up two-factor sign-in first: your organisation requires it.",
                        code="totp_enrolment_required")
    if principal.kind != "visitor":
        return principal, principal.name
    try:
        visitor = VisitorModel.get(principal.tenant_id, principal.id, consistent_read=True)
    except DoesNotExist:
        raise Unauthorized("Invalid or expired token.") from None
    if visitor.erased_at is not None:  # erased since the token was issued
        raise Unauthorized("Invalid or expired token.")
    return principal, visitor.name


def _allowed_origins(tenant_id: str) -> list[str]:
    return Settings.model_validate(TenantModel.get(tenant_id).settings).allowed_origins


def on_disconnect(connection_id: str) -> None:
    connection = connections.remove(connection_id)
    if connection is not None and connection.kind == "agent" and not connections.connection_ids_of(
            connection.tenant_id, "agent", connection.principal_id):
        # The last tab closed: hand the chats back only if they do not return within the grace.
        presence.schedule_lapse(connection.tenant_id, connection.principal_id,
                                runtime().clock.utcnow() + presence.GRACE)


def on_message(connection_id: str, body: str | None) -> None:
    try:
        # Every frame, whatever its action, counts against its connection's limit; the same request
        # reads who is on the connection.
        connection = ratelimit.count_frame(connection_id, runtime().config.ws_frames_per_second)
    except RateLimited as err:  # refused before anything is done; the connection stays open
        ref, conversation_id = _named(body)
        sender().send(connection_id, frames.error_frame(err.code, err.message, ref, err.headers.get("Retry-After"),
                                                        conversation_id))
        return
    except Exception as exc:  # noqa: BLE001 - even an unreadable connection record gets an answer
        sender().send(connection_id, _failure_frame(exc, "frame", _named(body)[0]))
        return
    if connection is None:
        # Its record is gone (expired or cleaned up): the client must reconnect.
        sender().send(connection_id, frames.error_frame(
            "not_connected", "This connection is no longer registered; reconnect.", None))
        return
    for reply in _replies(connection, body):
        sender().send(connection_id, reply)


def _replies(connection: ConnectionModel, body: str | None) -> Reply:
    try:
        frame = frames.parse_client_frame(body)
    except frames.FrameError as err:
        return [frames.error_frame(err.code, err.message, err.ref)]
    ref, conversation_id = _ref(frame), getattr(frame, "conversation_id", None)
    kind, handler = DISPATCH[frame.action]
    try:
        if kind is not None and connection.kind != kind:
            raise Forbidden(f"{frame.action} is for {kind}s.")
        return handler(connection, frame)
    except ApiError as err:
        return [frames.error_frame(err.code, err.message, ref, err.headers.get("Retry-After"), conversation_id)]
    except Exception as exc:  # noqa: BLE001 - the sender must learn the outcome, whatever failed
        return [_failure_frame(exc, frame.action, ref, conversation_id)]


def _ref(frame: frames.AnyClientFrame) -> str:
    """What an answer refers to: the frame's client_msg_id, else its action."""
    return getattr(frame, "client_msg_id", None) or frame.action


def _named(body: str | None) -> tuple[str | None, str | None]:
    """The ref and conversation of a frame answered before it is handled, as far as it parses."""
    try:
        frame = frames.parse_client_frame(body)
    except frames.FrameError as err:
        return err.ref, None
    return _ref(frame), getattr(frame, "conversation_id", None)


def _failure_frame(exc: Exception, action: str, ref: str | None,
                   conversation_id: str | None = None) -> dict[str, Any]:
    """What failed on our side (an AWS service throttled or down: `unavailable`; anything else:
    `internal_error`), logged with its trace but never the frame."""
    code = "unavailable" if dependency_failed(exc) else "internal_error"
    log.exception("%s failed (%s)", action, code)
    return frames.error_frame(code, "This could not be done just now; send it again (the same "
                                    "client_msg_id is never stored twice).", ref,
                              conversation_id=conversation_id)


# Each action: who may send it (None: both parties) and what it does.
def _send(connection: ConnectionModel, frame: frames.MessageSend) -> Reply:
    messages.send_message(connection, frame.conversation_id, frame.client_msg_id, frame.text, frame.attachment_ids)
    return []


def _typing(connection: ConnectionModel, frame: frames.Typing) -> Reply:
    messages.relay_typing(connection, frame.conversation_id, frame.state)
    return []


def _read(connection: ConnectionModel, frame: frames.Read) -> Reply:
    messages.mark_read(connection, frame.conversation_id, frame.seq)
    return []


def _presence(connection: ConnectionModel, frame: frames.PresenceSet) -> Reply:
    presence.set_presence(connection, frame.status)
    return [{"type": "presence", "agent_id": connection.principal_id, "status": frame.status}]


def _close(connection: ConnectionModel, frame: frames.ConversationClose) -> Reply:
    closing.close(connection, frame.conversation_id, frame.resolution)
    return []


def _handoff(connection: ConnectionModel, frame: frames.HandoffRequest) -> Reply:
    opening.hand_to_human(conversation_for(connection, frame.conversation_id))
    return []


def _transfer(connection: ConnectionModel, frame: frames.ConversationTransfer) -> Reply:
    # Judged by the role the agent holds now, not the one the socket opened with.
    transfers.transfer(connections.reverified(connection), frame.conversation_id, frame.to_agent_id, frame.to_team)
    return []


def _escalate(connection: ConnectionModel, frame: frames.ConversationEscalate) -> Reply:
    transfers.escalate(connection, frame.conversation_id)
    return []


def _sync(connection: ConnectionModel, frame: frames.MessagesSync) -> Reply:
    return messages.replay(connection, frame.conversation_id, frame.after_seq)


def _ping(connection: ConnectionModel, frame: frames.Ping) -> Reply:
    return [{"type": "pong"}]


DISPATCH: dict[str, tuple[str | None, Callable[[ConnectionModel, Any], Reply]]] = {
    "message.send": (None, _send),
    "typing": (None, _typing),
    "read": (None, _read),
    "presence.set": ("agent", _presence),
    "conversation.close": (None, _close),
    "handoff.request": ("visitor", _handoff),
    "conversation.transfer": ("agent", _transfer),
    "conversation.escalate": ("agent", _escalate),
    "messages.sync": (None, _sync),
    "ping": (None, _ping),
}
