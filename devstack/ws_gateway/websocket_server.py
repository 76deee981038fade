"""The clients' side of the gateway: a websockets server whose connections run the route handlers.

The handshake runs "$connect" and refuses the upgrade with the handler's status unless it is 2xx;
each frame runs "$default", one at a time per connection so its frames stay in order; the close
runs "$disconnect" with the close code. Connections idle for idle_timeout or older than
max_lifetime are closed with 1001, as API Gateway closes them. Everything here runs on the event
loop; the handlers themselves run on the HandlerPool. Frames carry chat text: never logged.
"""

from __future__ import annotations

import asyncio
import http
import time
from typing import cast

from websockets.asyncio.server import Server, ServerConnection, serve
from websockets.datastructures import Headers
from websockets.exceptions import ConnectionClosed
from websockets.frames import CloseCode
from websockets.http11 import Request, Response

from .events import CONNECT, DEFAULT, DISCONNECT, EventFactory, api_gateway_id
from .handlers import HandlerPool
from .registry import Client, ConnectionRegistry

# API Gateway's integration timeout is 29 s; the handshake waits for $connect that long.
_HANDSHAKE_TIMEOUT = 30.0
_GOING_AWAY = "Going away"


def _frame_size(frame: str | bytes) -> int:
    return len(frame.encode() if isinstance(frame, str) else frame)


def _refusal(status: int, body: str) -> Response:
    """Handshake response refusing the upgrade; built by hand so any status code works."""
    payload = body.encode()
    headers = Headers(
        [
            ("Content-Type", "text/plain; charset=utf-8"),
            ("Content-Length", str(len(payload))),
            ("Connection", "close"),
        ]
    )
    try:
        reason = http.HTTPStatus(status).phrase
    except ValueError:
        reason = ""
    return Response(status, reason, headers, payload)


def _close_status(websocket: ServerConnection) -> tuple[int, str]:
    """Code and reason of the close frame that ended the connection: the side that closed first
    decides (1001 for our idle timeout, the client's code when it left), 1006 if none was sent."""
    protocol = websocket.protocol
    frame = protocol.close_rcvd if protocol.close_rcvd_then_sent else protocol.close_sent
    if frame is None:
        return int(CloseCode.ABNORMAL_CLOSURE), ""
    return int(frame.code), frame.reason  # plain ints: the event must hold JSON types


class _GatewayConnection(ServerConnection):
    """A websockets connection carrying its Client from $connect to the connection handler."""

    client: Client | None = None


class WebSocketServer:
    """The websockets server and its connections' lives: open() and close() on the event loop."""

    def __init__(
        self,
        registry: ConnectionRegistry,
        handlers: HandlerPool,
        *,
        host: str,
        port: int,
        stage: str,
        api_id: str,
        idle_timeout: float,
        max_lifetime: float,
        max_frame_bytes: int,
    ) -> None:
        self.host = host
        self.port = port  # the bound port once open() returns (0 picks a free one)
        self._registry = registry
        self._handlers = handlers
        self._stage = stage
        self._api_id = api_id
        self._idle_timeout = idle_timeout
        self._max_lifetime = max_lifetime
        self._max_frame_bytes = max_frame_bytes
        # Everything below exists only while open.
        self._server: Server | None = None
        self._events: EventFactory | None = None
        self._reaper: asyncio.Task[None] | None = None

    async def open(self) -> None:
        """Listen; from now on each connection runs the handlers."""
        self._server = await serve(
            self._serve_connection,
            self.host,
            self.port,
            process_request=self._run_connect,
            create_connection=_GatewayConnection,
            max_size=self._max_frame_bytes,  # a bigger frame closes the connection with 1009
            compression=None,  # API Gateway does not negotiate permessage-deflate
            ping_interval=None,  # as on AWS, idle_timeout (not keepalive pings) ends quiet clients
            open_timeout=_HANDSHAKE_TIMEOUT,
        )
        self.port = self._server.sockets[0].getsockname()[1]
        self._events = EventFactory(f"{self.host}:{self.port}", self._stage, self._api_id)
        self._reaper = asyncio.create_task(self._reap_expired_connections())

    async def close(self) -> None:
        """Close every connection with 1001 and wait for their $disconnect; no-op unless open."""
        if self._server is None:
            return
        if self._reaper is not None:
            self._reaper.cancel()
            self._reaper = None
        # Closes open connections with 1001 and waits for their handlers, hence $disconnect.
        self._server.close(code=CloseCode.GOING_AWAY, reason=_GOING_AWAY)
        await self._server.wait_closed()

    async def _run_connect(self, websocket: ServerConnection, request: Request) -> Response | None:
        """process_request hook: $connect decides during the handshake; None accepts."""
        assert self._events is not None
        client = Client(
            connection_id=api_gateway_id(),
            websocket=websocket,
            source_ip=websocket.remote_address[0],
            user_agent=request.headers.get("User-Agent", ""),
        )
        outcome = await self._handlers.invoke(
            CONNECT, self._events.connect(client, request), f"CONNECT {client.connection_id}"
        )
        if outcome is None:
            return _refusal(500, "Internal server error")
        status, body = outcome
        if not 200 <= status < 300:
            return _refusal(status, body)
        cast(_GatewayConnection, websocket).client = client
        return None

    async def _serve_connection(self, websocket: ServerConnection) -> None:
        """Connection handler, run after a successful handshake: frames in order, $disconnect."""
        assert self._events is not None
        client = cast(_GatewayConnection, websocket).client
        assert client is not None, "the handshake only succeeds after $connect set the client"
        # websockets writes the 101 and starts this handler in one loop step, so no Management API
        # call (they run on this loop too) can find the client connected but not yet registered.
        self._registry.add(client)
        try:
            async for frame in websocket:
                client.touch()
                # Awaited before reading the next frame: one connection's frames stay in order.
                event = self._events.message(client, frame)
                label = f"MESSAGE {client.connection_id} {_frame_size(frame)}B"
                await self._handlers.invoke(DEFAULT, event, label)
        except ConnectionClosed:
            pass  # abnormal endings (1006, 1009...) land here; $disconnect reports the code
        finally:
            self._registry.discard(client)
            code, reason = _close_status(websocket)
            event = self._events.disconnect(client, code, reason)
            label = f"DISCONNECT {client.connection_id} close={code}"
            await self._handlers.invoke(DISCONNECT, event, label)

    async def _reap_expired_connections(self) -> None:
        """Close connections idle for idle_timeout or older than max_lifetime, like API Gateway."""
        interval = min(1.0, self._idle_timeout / 4)
        while True:
            await asyncio.sleep(interval)
            now = time.monotonic()
            for client in self._registry.clients():
                idle = now - client.last_active >= self._idle_timeout
                too_old = now - client.opened >= self._max_lifetime
                if idle or too_old:
                    self._registry.close(client, CloseCode.GOING_AWAY, _GOING_AWAY)
