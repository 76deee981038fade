"""A local API Gateway WebSocket API, so the Chalice app's websocket handlers run unchanged.

Clients connect to a `websockets` server; connects, frames and disconnects become API Gateway
WebSocket Lambda proxy events for the "$connect" / "$default" / "$disconnect" handlers. The app
answers through the API Gateway Management API (boto3 "apigatewaymanagementapi" with
endpoint_url=management_endpoint), served here by a ThreadingHTTPServer.

Threads: one runs the asyncio event loop (all websocket I/O and the connection registry), one
serves the Management API, and a pool runs the handlers. Handlers never run on the loop: they
make blocking boto3 calls back into the Management API, which needs the loop to deliver them.

Frame and post bodies carry chat text, so they are never logged.
"""

from __future__ import annotations

import asyncio
import base64
import concurrent.futures
import http
import importlib
import json
import secrets
import threading
import time
import uuid
from collections.abc import Callable, Coroutine, Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import TYPE_CHECKING, Any, TypeVar, cast
from urllib.parse import parse_qsl, unquote, urlsplit

from websockets.asyncio.server import Server, ServerConnection, serve
from websockets.datastructures import Headers
from websockets.exceptions import ConnectionClosed
from websockets.frames import CloseCode
from websockets.http11 import Request, Response

if TYPE_CHECKING:
    from chalice import Chalice
    from chalice.app import WebsocketConnectConfig, WebsocketDisconnectConfig, WebsocketMessageConfig

Handler = Callable[[dict[str, Any], Any], Any]
Log = Callable[[str], None]
T = TypeVar("T")

CONNECT, DEFAULT, DISCONNECT = "$connect", "$default", "$disconnect"

# API Gateway's integration timeout is 29 s; the handshake waits for $connect that long.
_HANDSHAKE_TIMEOUT = 30.0
# Chalice's default lambda_timeout; only feeds context.get_remaining_time_in_millis().
_LAMBDA_TIMEOUT = 60.0
# Bounds a Management API call waiting on the loop (e.g. a post to a client that stopped reading).
_MANAGEMENT_CALL_TIMEOUT = 10.0
# Bounds start-up and the close-everything phase of stop() ($disconnect handlers included).
_START_TIMEOUT = 10.0
_STOP_TIMEOUT = 30.0
_GOING_AWAY = "Going away"


# --- Small helpers --------------------------------------------------------------------------


def _api_gateway_id() -> str:
    """An id shaped like API Gateway's connection/request ids: 11 random bytes, base64 ("...=")."""
    return base64.b64encode(secrets.token_bytes(11)).decode()


def _epoch_ms(epoch_seconds: float) -> int:
    return int(epoch_seconds * 1000)


def _elapsed_ms(started_monotonic: float) -> int:
    return round((time.monotonic() - started_monotonic) * 1000)


def _iso8601(epoch_seconds: float) -> str:
    moment = datetime.fromtimestamp(epoch_seconds, tz=timezone.utc)
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _request_time(epoch_seconds: float) -> str:
    """API Gateway's requestTime format, e.g. "09/Feb/2024:18:11:43 +0000"."""
    return time.strftime("%d/%b/%Y:%H:%M:%S +0000", time.gmtime(epoch_seconds))


def _group_pairs(pairs: Iterable[tuple[str, str]]) -> tuple[dict[str, str], dict[str, list[str]]]:
    """(single-value, multi-value) maps as in API Gateway events; the single map keeps the last."""
    multi: dict[str, list[str]] = {}
    for name, value in pairs:
        multi.setdefault(name, []).append(value)
    return {name: values[-1] for name, values in multi.items()}, multi


def _frame_size(frame: str | bytes) -> int:
    return len(frame.encode() if isinstance(frame, str) else frame)


def _status_and_body(result: Any) -> tuple[int, str]:
    """Read a handler's {"statusCode", "body"} result; None means 200, like API Gateway."""
    if result is None:
        return 200, ""
    if not isinstance(result, Mapping):
        raise TypeError(f"handler returned {type(result).__name__}, expected a dict or None")
    body = result.get("body")
    return int(result.get("statusCode", 200)), "" if body is None else str(body)


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


# --- Connections and events -----------------------------------------------------------------


@dataclass(eq=False)
class _Client:
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


class _GatewayConnection(ServerConnection):
    """A websockets connection carrying its _Client from $connect to the connection handler."""

    client: _Client | None = None


def _close_status(websocket: ServerConnection) -> tuple[int, str]:
    """Code and reason of the close frame that ended the connection: the side that closed first
    decides (1001 for our idle timeout, the client's code when it left), 1006 if none was sent."""
    protocol = websocket.protocol
    frame = protocol.close_rcvd if protocol.close_rcvd_then_sent else protocol.close_sent
    if frame is None:
        return int(CloseCode.ABNORMAL_CLOSURE), ""
    return int(frame.code), frame.reason  # plain ints: the event must hold JSON types


@dataclass(frozen=True)
class _EventFactory:
    """Builds API Gateway WebSocket Lambda proxy events."""

    domain_name: str
    stage: str
    api_id: str

    def connect(self, client: _Client, request: Request) -> dict[str, Any]:
        headers, multi_value_headers = _group_pairs(request.headers.raw_items())
        query = urlsplit(request.path).query
        parameters, multi_value_parameters = (
            _group_pairs(parse_qsl(query, keep_blank_values=True)) if query else (None, None)
        )
        return {
            "headers": headers,
            "multiValueHeaders": multi_value_headers,
            "queryStringParameters": parameters,
            "multiValueQueryStringParameters": multi_value_parameters,
            "requestContext": self._request_context(client, CONNECT, "CONNECT"),
            "isBase64Encoded": False,
        }

    def message(self, client: _Client, frame: str | bytes) -> dict[str, Any]:
        request_context = self._request_context(client, DEFAULT, "MESSAGE")
        request_context["messageId"] = _api_gateway_id()
        if isinstance(frame, bytes):
            return {
                "requestContext": request_context,
                "body": base64.b64encode(frame).decode(),
                "isBase64Encoded": True,
            }
        return {"requestContext": request_context, "body": frame, "isBase64Encoded": False}

    def disconnect(self, client: _Client, code: int, reason: str) -> dict[str, Any]:
        request_context = self._request_context(client, DISCONNECT, "DISCONNECT")
        request_context.update(disconnectStatusCode=code, disconnectReason=reason)
        return {"requestContext": request_context, "isBase64Encoded": False}

    def _request_context(self, client: _Client, route_key: str, event_type: str) -> dict[str, Any]:
        now = time.time()
        return {
            "routeKey": route_key,
            "eventType": event_type,
            "messageDirection": "IN",
            "connectionId": client.connection_id,
            "connectedAt": _epoch_ms(client.connected_at),
            "requestId": _api_gateway_id(),
            "extendedRequestId": _api_gateway_id(),
            "requestTime": _request_time(now),
            "requestTimeEpoch": _epoch_ms(now),
            "domainName": self.domain_name,
            "stage": self.stage,
            "apiId": self.api_id,
            "identity": {"sourceIp": client.source_ip, "userAgent": client.user_agent},
        }


@dataclass(frozen=True)
class _LambdaContext:
    """The parts of the Lambda context object that handlers use."""

    function_name: str
    aws_request_id: str
    deadline: float  # monotonic
    memory_limit_in_mb: int = 128

    def get_remaining_time_in_millis(self) -> int:
        return max(0, round((self.deadline - time.monotonic()) * 1000))


# --- Connection registry --------------------------------------------------------------------


class _ConnectionRegistry:
    """Registered connections by id: what the Management API can reach.

    Only touched on the event loop; Management API threads come in through run_threadsafe().
    """

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self._loop = loop
        self._clients: dict[str, _Client] = {}
        self._closing: set[asyncio.Task[None]] = set()  # holds close tasks until they finish

    def __len__(self) -> int:
        return len(self._clients)  # the one read safe from any thread: len() of a dict is atomic

    def clients(self) -> list[_Client]:
        return list(self._clients.values())

    def add(self, client: _Client) -> None:
        self._clients[client.connection_id] = client

    def discard(self, client: _Client) -> None:
        if self._clients.get(client.connection_id) is client:
            del self._clients[client.connection_id]

    def close(self, client: _Client, code: int, reason: str) -> None:
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


# --- Management API -------------------------------------------------------------------------


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


class _ManagementServer(ThreadingHTTPServer):
    # Non-daemon request threads, so server_close() joins them: stop() leaves no thread behind.
    daemon_threads = False

    def __init__(
        self,
        address: tuple[str, int],
        registry: _ConnectionRegistry,
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

    server: _ManagementServer

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


# --- Gateway --------------------------------------------------------------------------------


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
        self._executor: concurrent.futures.ThreadPoolExecutor | None = None
        self._registry: _ConnectionRegistry | None = None
        self._events: _EventFactory | None = None
        self._websocket_server: Server | None = None
        self._reaper: asyncio.Task[None] | None = None
        self._management_server: _ManagementServer | None = None
        self._management_thread: threading.Thread | None = None

    @property
    def ws_url(self) -> str:
        return f"ws://{self.host}:{self.port}"

    @property
    def management_endpoint(self) -> str:
        return f"http://{self.host}:{self.management_port}/{self.stage}"

    def connection_count(self) -> int:
        return 0 if self._registry is None else len(self._registry)

    # --- Lifecycle ---

    def start(self) -> None:
        """Listen on both ports (0 picks a free one); returns once both accept connections."""
        if self._loop is not None:
            raise RuntimeError("gateway already started")
        try:
            self._start_event_loop()
            self._run_on_loop(self._open_websocket_server(), _START_TIMEOUT)
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
        if self._executor is not None:
            self._executor.shutdown(wait=True, cancel_futures=True)
            self._executor = None
        self._registry = None
        self._events = None

    def _start_event_loop(self) -> None:
        loop = asyncio.new_event_loop()
        self._loop = loop
        self._registry = _ConnectionRegistry(loop)
        self._executor = concurrent.futures.ThreadPoolExecutor(
            self._workers, thread_name_prefix="ws-gateway-handler"
        )
        self._loop_thread = threading.Thread(
            target=loop.run_forever, name="ws-gateway-loop", daemon=True
        )
        self._loop_thread.start()

    def _run_on_loop(self, operation: Coroutine[Any, Any, T], timeout: float) -> T:
        assert self._loop is not None
        return asyncio.run_coroutine_threadsafe(operation, self._loop).result(timeout)

    async def _open_websocket_server(self) -> None:
        self._websocket_server = await serve(
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
        self.port = self._websocket_server.sockets[0].getsockname()[1]
        self._events = _EventFactory(f"{self.host}:{self.port}", self.stage, self.api_id)
        self._reaper = asyncio.create_task(self._reap_expired_connections())

    def _start_management_server(self) -> None:
        assert self._registry is not None
        self._management_server = _ManagementServer(
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
        try:
            self._run_on_loop(self._shut_websocket_server(), _STOP_TIMEOUT)
        except concurrent.futures.TimeoutError:
            self._log(f"ws gateway: connections still closing after {_STOP_TIMEOUT:.0f}s")
        self._websocket_server = None

    async def _shut_websocket_server(self) -> None:
        assert self._websocket_server is not None
        if self._reaper is not None:
            self._reaper.cancel()
            self._reaper = None
        # Closes open connections with 1001 and waits for their handlers, hence $disconnect.
        self._websocket_server.close(code=CloseCode.GOING_AWAY, reason=_GOING_AWAY)
        await self._websocket_server.wait_closed()

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

    # --- Connections (all on the event loop) ---

    async def _run_connect(self, websocket: ServerConnection, request: Request) -> Response | None:
        """process_request hook: $connect decides during the handshake; None accepts."""
        assert self._events is not None
        client = _Client(
            connection_id=_api_gateway_id(),
            websocket=websocket,
            source_ip=websocket.remote_address[0],
            user_agent=request.headers.get("User-Agent", ""),
        )
        outcome = await self._invoke(
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
        assert self._registry is not None and self._events is not None
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
                await self._invoke(DEFAULT, event, label)
        except ConnectionClosed:
            pass  # abnormal endings (1006, 1009...) land here; $disconnect reports the code
        finally:
            self._registry.discard(client)
            code, reason = _close_status(websocket)
            event = self._events.disconnect(client, code, reason)
            label = f"DISCONNECT {client.connection_id} close={code}"
            await self._invoke(DISCONNECT, event, label)

    async def _invoke(
        self, route_key: str, event: dict[str, Any], label: str
    ) -> tuple[int, str] | None:
        """Run the route's handler on the pool and log one line; None if it raised."""
        assert self._executor is not None
        handler = self._handlers.get(route_key)
        if handler is None:
            return 200, ""
        context = _LambdaContext(
            function_name=f"{self.api_id}-{self.stage}-{route_key.lstrip('$')}",
            aws_request_id=str(uuid.uuid4()),
            deadline=time.monotonic() + _LAMBDA_TIMEOUT,
        )
        started = time.monotonic()
        loop = asyncio.get_running_loop()
        try:
            result = await loop.run_in_executor(self._executor, handler, event, context)
            status, body = _status_and_body(result)
        except Exception as exc:
            # Type and message only: a traceback's locals could quote the chat text.
            self._log(f"ws {label} {_elapsed_ms(started)}ms failed: {type(exc).__name__}: {exc}")
            return None
        self._log(f"ws {label} {status} {_elapsed_ms(started)}ms")
        return status, body

    async def _reap_expired_connections(self) -> None:
        """Close connections idle for idle_timeout or older than max_lifetime, like API Gateway."""
        assert self._registry is not None
        interval = min(1.0, self._idle_timeout / 4)
        while True:
            await asyncio.sleep(interval)
            now = time.monotonic()
            for client in self._registry.clients():
                idle = now - client.last_active >= self._idle_timeout
                too_old = now - client.opened >= self._max_lifetime
                if idle or too_old:
                    self._registry.close(client, CloseCode.GOING_AWAY, _GOING_AWAY)


# --- Chalice --------------------------------------------------------------------------------


def chalice_websocket_handlers(app: Chalice) -> dict[str, Handler]:
    """Resolve '$connect', '$disconnect', '$default' to the callables a Lambda would run."""
    return {
        route_key: _lambda_handler(config) for route_key, config in app.websocket_handlers.items()
    }


def _lambda_handler(
    config: WebsocketConnectConfig | WebsocketMessageConfig | WebsocketDisconnectConfig,
) -> Handler:
    """The module attribute named by config.handler_string: Chalice's WebsocketEventSourceHandler.

    handler_string is always "app.<function>" for handlers on the Chalice app itself (a Lambda
    loads app.py), so the module is taken from the decorated function instead: the same "app"
    when deployed, and the right module for an app defined anywhere else (tests)."""
    module_name = config.handler_function.__module__
    attribute = config.handler_string.rpartition(".")[2]
    handler = getattr(importlib.import_module(module_name), attribute, None)
    if getattr(handler, "func", None) is not config.handler_function:
        raise LookupError(
            f"{module_name}.{attribute} is not the handler registered for "
            f"{config.route_key_handled}"
        )
    return cast(Handler, handler)
