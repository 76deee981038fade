"""Frames to clients through the API Gateway Management API.

The endpoint comes from configuration, not from the WebSocket event, because scheduled
jobs and REST handlers send too and Chalice can only configure it inside a WebSocket
handler.
"""
from __future__ import annotations

import json
import logging
from typing import Any, Callable, Iterable

from ..runtime import runtime
from . import connections

log = logging.getLogger("switchboard.sender")


class Sender:
    def __init__(self, client: Any, forget: Callable[[str], None]) -> None:
        self._client = client
        self._forget = forget

    def send(self, connection_id: str, frame: dict[str, Any]) -> bool:
        """Post one frame; a connection that is gone is forgotten, never an error for the caller."""
        data = json.dumps(frame, separators=(",", ":"), ensure_ascii=False).encode()
        try:
            self._client.post_to_connection(ConnectionId=connection_id, Data=data)
        except self._client.exceptions.GoneException:
            self._forget(connection_id)
            return False
        return True

    def send_all(self, connection_ids: Iterable[str], frame: dict[str, Any]) -> int:
        return sum(self.send(connection_id, frame) for connection_id in connection_ids)

    def disconnect(self, connection_id: str) -> None:
        """Close a connection from the server side (one already gone is no error)."""
        try:
            self._client.delete_connection(ConnectionId=connection_id)
        except self._client.exceptions.GoneException:
            pass
        self._forget(connection_id)


def sender() -> Sender:
    rt = runtime()
    return rt.once("sender", lambda: Sender(
        rt.client("apigatewaymanagementapi", endpoint_url=rt.config.ws_management_endpoint or None),
        connections.remove))
