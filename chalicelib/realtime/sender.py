"""Frames to clients through the API Gateway Management API.

The endpoint comes from configuration, not from the WebSocket event, because scheduled
jobs and REST handlers send too and Chalice can only configure it inside a WebSocket
handler.
"""
from __future__ import annotations

import json
import logging
from collections.abc import Callable, Iterable
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from ..runtime import runtime
from . import connections

log = logging.getLogger("switchboard.sender")


class Sender:
    def __init__(self, client: Any, forget: Callable[[str], object]) -> None:
        self._client = client
        self._forget = forget

    def send(self, connection_id: str, frame: dict[str, Any]) -> bool:
        """Post one frame; a connection that is gone is forgotten, and one that cannot be reached
        (refused, throttled) is skipped: never an error for the caller, whose action has happened."""
        data = json.dumps(frame, separators=(",", ":"), ensure_ascii=False).encode()
        try:
            self._client.post_to_connection(ConnectionId=connection_id, Data=data)
        except self._client.exceptions.GoneException:
            self._forget(connection_id)
            return False
        except (ClientError, BotoCoreError) as err:
            _unreachable("post to", connection_id, err)
            return False
        return True

    def send_all(self, connection_ids: Iterable[str], frame: dict[str, Any]) -> int:
        return sum(self.send(connection_id, frame) for connection_id in connection_ids)

    def disconnect(self, connection_id: str) -> bool:
        """Close a connection from the server side (one already gone is no error). False when API
        Gateway could not be asked: the record is kept, so $disconnect or a later attempt ends it."""
        try:
            self._client.delete_connection(ConnectionId=connection_id)
        except self._client.exceptions.GoneException:
            pass
        except (ClientError, BotoCoreError) as err:
            _unreachable("close", connection_id, err)
            return False
        self._forget(connection_id)
        return True

    def revoke(self, connection_id: str, reason: str) -> None:
        """The session behind this connection ended: tell it why (`session.revoked`), then close it."""
        self.send(connection_id, {"type": "session.revoked", "reason": reason})
        self.disconnect(connection_id)


def _unreachable(what: str, connection_id: str, err: Exception) -> None:
    # The error code only: a connection id is no secret, and frames are never logged.
    code = err.response.get("Error", {}).get("Code") if isinstance(err, ClientError) else type(err).__name__
    log.warning("could not %s connection %s: %s", what, connection_id, code)


def sender() -> Sender:
    rt = runtime()
    return rt.once("sender", lambda: Sender(
        rt.client("apigatewaymanagementapi", endpoint_url=rt.config.ws_management_endpoint or None),
        connections.remove))
