"""WebSocketGateway: the local API Gateway WebSocket API, started and stopped as one piece.

It owns the threads: one runs the asyncio event loop (the websockets server and the connection
registry), one serves the Management API, and the HandlerPool's workers run the handlers.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import threading
from collections.abc import Callable, Coroutine, Mapping
from typing import Any, TypeVar

from .handlers import Handler, HandlerPool
from .management_api import ManagementServer
from .registry import ConnectionRegistry
from .websocket_server import WebSocketServer

Log = Callable[[str], None]
T = TypeVar("T")

# Bounds start-up and the close-everything phase of stop() ($disconnect handlers included).
_START_TIMEOUT = 10.0
_STOP_TIMEOUT = 30.0


class WebSocketGateway:
    """API Gateway WebSocket API + Management API on localhost. start() / stop() from any thread."""

    def __init__(
        self,
        handlers: Mapping[str, Handler],
        *,
        host: str = "127.0.0.1",
        port: int = 8001,
        management_port: int = 8002,
        stage: str = "dev",
        api_id: str = "local",
        idle_timeout: float = 600.0,
        max_lifetime: float = 7200.0,
        max_frame_bytes: int = 32 * 1024,
        max_post_bytes: int = 128 * 1024,
        workers: int = 32,
        log: Log = print,
    ) -> None:
        self.host = host
        self.port = port
        self.management_port = management_port
        self.stage = stage
        self.api_id = api_id
        self._handlers = dict(handlers)
        self._idle_timeout = idle_timeout
        self._max_lifetime = max_lifetime
        self._max_frame_bytes = max_frame_bytes
        self._max_post_bytes = max_post_bytes
        self._workers = workers
        self._log = log
        # Everything below exists only between start() and stop().
        self._loop: asyncio.AbstractEventLoop | None = None
        self._loop_thread: threading.Thread | None = None
        self._handler_pool: HandlerPool | None = None
        self._registry: ConnectionRegistry | None = None
        self._websocket_server: WebSocketServer | None = None
        self._management_server: ManagementServer | None = None
        self._management_thread: threading.Thread | None = None

    @property
    def ws_url(self) -> str:
        return f"ws://{self.host}:{self.port}"

    @property
    def management_endpoint(self) -> str:
        return f"http://{self.host}:{self.management_port}/{self.stage}"

    def connection_count(self) -> int:
        """Open connections, counted on the gateway's loop: the step that answers a handshake with 101 also
        registers the connection, so a connection whose client has seen its 101 is counted."""
        registry = self._registry
        if registry is None or self._loop is None:
            return 0

        async def count() -> int:
            return len(registry)

        return self._run_on_loop(count(), timeout=5)

    def start(self) -> None:
        """Listen on both ports (0 picks a free one); returns once both accept connections."""
        if self._loop is not None:
            raise RuntimeError("gateway already started")
        try:
            self._start_event_loop()
            self._start_websocket_server()
            self._start_management_server()
        except BaseException:
            self.stop()
            raise

    def stop(self) -> None:
        """Close every connection (each fires $disconnect), then both servers. Idempotent.

        Order matters: $disconnect handlers may still call the Management API, and that API
        needs the loop, so the HTTP server goes after the websockets and the loop goes last."""
        if self._websocket_server is not None:
            self._close_websocket_server()
        if self._management_server is not None:
            self._close_management_server()
        if self._loop is not None:
            self._close_event_loop()
        if self._handler_pool is not None:
            self._handler_pool.shutdown()
            self._handler_pool = None
        self._registry = None

    def _start_event_loop(self) -> None:
        loop = asyncio.new_event_loop()
        self._loop = loop
        self._registry = ConnectionRegistry(loop)
        self._handler_pool = HandlerPool(
            self._handlers, function_prefix=f"{self.api_id}-{self.stage}", workers=self._workers, log=self._log
        )
        self._loop_thread = threading.Thread(
            target=loop.run_forever, name="ws-gateway-loop", daemon=True
        )
        self._loop_thread.start()

    def _run_on_loop(self, operation: Coroutine[Any, Any, T], timeout: float) -> T:
        assert self._loop is not None
        return asyncio.run_coroutine_threadsafe(operation, self._loop).result(timeout)

    def _start_websocket_server(self) -> None:
        assert self._registry is not None and self._handler_pool is not None
        server = WebSocketServer(
            self._registry,
            self._handler_pool,
            host=self.host,
            port=self.port,
            stage=self.stage,
            api_id=self.api_id,
            idle_timeout=self._idle_timeout,
            max_lifetime=self._max_lifetime,
            max_frame_bytes=self._max_frame_bytes,
        )
        self._websocket_server = server  # before open(): a start that times out still gets closed
        self._run_on_loop(server.open(), _START_TIMEOUT)
        self.port = server.port

    def _start_management_server(self) -> None:
        assert self._registry is not None
        self._management_server = ManagementServer(
            (self.host, self.management_port),
            self._registry,
            stage=self.stage,
            max_post_bytes=self._max_post_bytes,
            log=self._log,
        )
        self.management_port = self._management_server.server_address[1]
        self._management_thread = threading.Thread(
            target=self._management_server.serve_forever,
            kwargs={"poll_interval": 0.1},  # how fast serve_forever notices shutdown()
            name="ws-gateway-management",
            daemon=True,
        )
        self._management_thread.start()

    def _close_websocket_server(self) -> None:
        assert self._websocket_server is not None
        try:
            self._run_on_loop(self._websocket_server.close(), _STOP_TIMEOUT)
        except concurrent.futures.TimeoutError:
            self._log(f"ws gateway: connections still closing after {_STOP_TIMEOUT:.0f}s")
        self._websocket_server = None

    def _close_management_server(self) -> None:
        assert self._management_server is not None
        if self._management_thread is not None:
            # shutdown() waits for serve_forever(), so only call it when that thread runs.
            self._management_server.shutdown()
            self._management_thread.join()
            self._management_thread = None
        self._management_server.server_close()
        self._management_server = None

    def _close_event_loop(self) -> None:
        assert self._loop is not None and self._loop_thread is not None
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._loop_thread.join()
        self._loop.close()
        self._loop = None
        self._loop_thread = None
