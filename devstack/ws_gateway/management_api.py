"""The API Gateway Management API the app answers through: PostToConnection, GetConnection and
DeleteConnection on "[/{stage}]/@connections/{id}", served on a port of its own.

The app's boto3 "apigatewaymanagementapi" client (endpoint_url=WebSocketGateway.management_endpoint)
gets API Gateway's answers: 410 GoneException for a connection that is no more, 413 for a post
past max_post_bytes, errors typed by x-amzn-ErrorType. Post bodies carry chat text: never logged.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from dataclasses import dataclass, replace
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import unquote, urlsplit

from .registry import ConnectionRegistry

Log = Callable[[str], None]


@dataclass(frozen=True)
class _Reply:
    status: int
    body: bytes = b""
    error_type: str | None = None  # x-amzn-ErrorType: botocore maps it to client.exceptions.*
    log_detail: str = ""

    @classmethod
    def error(cls, status: int, error_type: str, message: str) -> _Reply:
        return cls(status, json.dumps({"message": message}).encode(), error_type)

    @classmethod
    def gone(cls, connection_id: str) -> _Reply:
        return cls.error(410, "GoneException", f"Connection {connection_id} is gone")


def _parse_connection_path(path: str, stage: str) -> str | None:
    """The connection id of "[/{stage}]/@connections/{id}", URL-decoded, or None.

    Split before decoding: botocore percent-encodes "=" and "/" inside the id."""
    segments = path.split("/")[1:]
    if segments[:1] == [stage]:
        segments = segments[1:]
    if len(segments) != 2 or segments[0] != "@connections" or not segments[1]:
        return None
    return unquote(segments[1])


class ManagementServer(ThreadingHTTPServer):
    """The Management API's HTTP server, over the registry of open connections."""

    # Non-daemon request threads, so server_close() joins them: stop() leaves no thread behind.
    daemon_threads = False

    def __init__(
        self,
        address: tuple[str, int],
        registry: ConnectionRegistry,
        *,
        stage: str,
        max_post_bytes: int,
        log: Log,
    ) -> None:
        self.registry = registry
        self.stage = stage
        self.max_post_bytes = max_post_bytes
        self.log = log
        super().__init__(address, _ManagementRequestHandler)

    def handle_error(self, request: Any, client_address: Any) -> None:
        # The default prints a traceback to stderr; what gets here is a client gone mid-request.
        self.log(f"ws management: request from {client_address[0]} failed")


class _ManagementRequestHandler(BaseHTTPRequestHandler):
    """PostToConnection, GetConnection and DeleteConnection of the API Gateway Management API.

    HTTP/1.0 (the default): one request per connection, so no idle keep-alive thread outlives
    stop()."""

    server: ManagementServer

    def do_POST(self) -> None:
        self._route(self._post)

    def do_GET(self) -> None:
        self._route(self._get)

    def do_DELETE(self) -> None:
        self._route(self._delete)

    def do_PUT(self) -> None:
        self._route(lambda _: _Reply.error(405, "MethodNotAllowedException", "Method not allowed"))

    do_PATCH = do_PUT

    def log_message(self, format: str, *args: Any) -> None:
        """Silenced: _route logs each request through the gateway's log, without bodies."""

    def _route(self, operation: Callable[[str], _Reply]) -> None:
        connection_id = _parse_connection_path(urlsplit(self.path).path, self.server.stage)
        if connection_id is None:
            target = urlsplit(self.path).path
            reply = _Reply.error(404, "NotFoundException", "No such resource")
        else:
            target = f"@connections/{connection_id}"
            try:
                reply = operation(connection_id)
            except Exception as exc:  # answer in JSON rather than drop the socket
                error = _Reply.error(500, "InternalServerErrorException", type(exc).__name__)
                reply = replace(error, log_detail=f" failed: {type(exc).__name__}")
        self._send(reply)
        self.server.log(f"ws {self.command} {target} {reply.status}{reply.log_detail}")

    def _post(self, connection_id: str) -> _Reply:
        length = int(self.headers.get("Content-Length") or 0)
        if length > self.server.max_post_bytes:
            self._discard_body(length)
            return _Reply.error(413, "PayloadTooLargeException", "Request entity too large")
        data = self.rfile.read(length)
        registry = self.server.registry
        if not registry.run_threadsafe(registry.post(connection_id, data)):
            return _Reply.gone(connection_id)
        return _Reply(200, log_detail=f" {length}B")

    def _get(self, connection_id: str) -> _Reply:
        registry = self.server.registry
        description = registry.run_threadsafe(registry.describe(connection_id))
        if description is None:
            return _Reply.gone(connection_id)
        return _Reply(200, json.dumps(description).encode())

    def _delete(self, connection_id: str) -> _Reply:
        registry = self.server.registry
        if not registry.run_threadsafe(registry.delete(connection_id)):
            return _Reply.gone(connection_id)
        return _Reply(204)

    def _discard_body(self, length: int) -> None:
        """Read a refused body anyway, so the client gets the 413 rather than a reset socket."""
        while length > 0:
            chunk = self.rfile.read(min(length, 64 * 1024))
            if not chunk:
                return
            length -= len(chunk)

    def _send(self, reply: _Reply) -> None:
        self.send_response(reply.status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(reply.body)))
        self.send_header("x-amzn-RequestId", str(uuid.uuid4()))
        if reply.error_type is not None:
            self.send_header("x-amzn-ErrorType", reply.error_type)
        self.end_headers()
        self.wfile.write(reply.body)
