"""The WebSocket $connect, $disconnect and $default logic behind app.py's thin handlers."""
from __future__ import annotations

import logging
from typing import Any, Callable

from ..errors import ApiError, Unauthorized
from ..storage.models import ConnectionModel
from ..tenancy.principals import Principal, principal_from_token
from . import connections, frames
from .sender import sender

log = logging.getLogger("switchboard.ws")

Reply = list[dict[str, Any]]


def on_connect(connection_id: str, query: dict[str, str] | None) -> dict[str, Any]:
    """Refuse at connect any missing, bad or expired token; otherwise record who this is."""
    token = (query or {}).get("token") or ""
    try:
        principal = _ws_principal(token)
    except ApiError as err:
        return {"statusCode": err.status, "body": err.message}
    connections.record(connection_id, principal)
    return {"statusCode": 200}


def _ws_principal(token: str) -> Principal:
    if not token or token.startswith("sbk."):
        # API keys are for servers calling REST; a WebSocket is an agent's or a visitor's.
        raise Unauthorized("An agent or visitor token is required.")
    return principal_from_token(token, allow_visitor=True)


def on_disconnect(connection_id: str) -> None:
    connections.remove(connection_id)


def on_message(connection_id: str, body: str | None) -> None:
    connection = connections.find(connection_id)
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
    ref = getattr(frame, "client_msg_id", None) or frame.action
    try:
        return DISPATCH[frame.action](connection, frame)
    except ApiError as err:
        return [frames.error_frame(err.code, err.message, ref)]


def _ping(connection: ConnectionModel, frame: frames.Ping) -> Reply:
    return [{"type": "pong"}]


DISPATCH: dict[str, Callable[[ConnectionModel, Any], Reply]] = {
    "ping": _ping,
}
