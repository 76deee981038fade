"""The connections the gateway holds open, by id: what the Management API can reach.

Each connection has a Client record (made while $connect runs, registered once the handshake
succeeds). The registry lives on the event loop; the Management API's threads reach it through
run_threadsafe().
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import time
from collections.abc import Coroutine
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, TypeVar

from websockets.asyncio.server import ServerConnection
from websockets.exceptions import ConnectionClosed
from websockets.frames import CloseCode

T = TypeVar("T")

# Bounds a Management API call waiting on the loop (e.g. a post to a client that stopped reading).
_MANAGEMENT_CALL_TIMEOUT = 10.0


def _iso8601(epoch_seconds: float) -> str:
    moment = datetime.fromtimestamp(epoch_seconds, tz=UTC)
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


@dataclass(eq=False)
class Client:
    """The gateway's record of one connection, created while $connect runs."""

    connection_id: str
    websocket: ServerConnection
    source_ip: str
    user_agent: str
    connected_at: float = field(default_factory=time.time)  # epoch, reported to the app
    opened: float = field(default_factory=time.monotonic)  # monotonic: for max_lifetime
    last_active: float = field(default_factory=time.monotonic)  # monotonic: for idle_timeout

    def touch(self) -> None:
        self.last_active = time.monotonic()

    def last_active_at(self) -> float:
        """Epoch time of the last frame in either direction (the connect, before any frame)."""
        return max(self.connected_at, time.time() - (time.monotonic() - self.last_active))

    def describe(self) -> dict[str, Any]:
        """The Management API's GetConnection body; camelCase on the wire, botocore returns it as
        ConnectedAt / Identity.SourceIp / LastActiveAt."""
        return {
            "connectedAt": _iso8601(self.connected_at),
            "identity": {"sourceIp": self.source_ip, "userAgent": self.user_agent},
            "lastActiveAt": _iso8601(self.last_active_at()),
        }


class ConnectionRegistry:
    """Registered connections by id: what the Management API can reach.

    Only touched on the event loop; Management API threads come in through run_threadsafe().
    """

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self._loop = loop
        self._clients: dict[str, Client] = {}
        self._closing: set[asyncio.Task[None]] = set()  # holds close tasks until they finish

    def __len__(self) -> int:
        return len(self._clients)  # the one read safe from any thread: len() of a dict is atomic

    def clients(self) -> list[Client]:
        return list(self._clients.values())

    def add(self, client: Client) -> None:
        self._clients[client.connection_id] = client

    def discard(self, client: Client) -> None:
        if self._clients.get(client.connection_id) is client:
            del self._clients[client.connection_id]

    def close(self, client: Client, code: int, reason: str) -> None:
        """Unregister at once, so the Management API answers 410 from now on, and let the close
        handshake finish in the background; the connection handler then fires $disconnect."""
        self.discard(client)
        task = self._loop.create_task(client.websocket.close(code, reason))
        self._closing.add(task)
        task.add_done_callback(self._closing.discard)

    def run_threadsafe(self, operation: Coroutine[Any, Any, T]) -> T:
        """Run one of the coroutines below on the loop from another thread and wait for it."""
        future = asyncio.run_coroutine_threadsafe(operation, self._loop)
        try:
            return future.result(_MANAGEMENT_CALL_TIMEOUT)
        except concurrent.futures.TimeoutError:
            future.cancel()
            raise

    async def post(self, connection_id: str, data: bytes) -> bool:
        """Send data as a text frame if it is UTF-8, else binary. False if there's no connection."""
        client = self._clients.get(connection_id)
        if client is None:
            return False
        try:
            frame: str | bytes = data.decode()
        except UnicodeDecodeError:
            frame = data
        try:
            await client.websocket.send(frame)
        except ConnectionClosed:
            return False
        client.touch()
        return True

    async def describe(self, connection_id: str) -> dict[str, Any] | None:
        client = self._clients.get(connection_id)
        return None if client is None else client.describe()

    async def delete(self, connection_id: str) -> bool:
        client = self._clients.get(connection_id)
        if client is None:
            return False
        self.close(client, CloseCode.NORMAL_CLOSURE, "")
        return True
