"""The Chalice WebSocket handlers run as their Lambdas would run them.

chalice_websocket_handlers() finds on the app the callables a Lambda runs for "$connect",
"$default" and "$disconnect"; HandlerPool calls them with a Lambda-like context on worker threads
and reads their {"statusCode", "body"} answer.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import importlib
import time
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, cast

if TYPE_CHECKING:
    from chalice import Chalice
    from chalice.app import WebsocketConnectConfig, WebsocketDisconnectConfig, WebsocketMessageConfig

Handler = Callable[[dict[str, Any], Any], Any]
Log = Callable[[str], None]

# Chalice's default lambda_timeout; only feeds context.get_remaining_time_in_millis().
_LAMBDA_TIMEOUT = 60.0


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


@dataclass(frozen=True)
class _LambdaContext:
    """The parts of the Lambda context object that handlers use."""

    function_name: str
    aws_request_id: str
    deadline: float  # monotonic
    memory_limit_in_mb: int = 128

    def get_remaining_time_in_millis(self) -> int:
        return max(0, round((self.deadline - time.monotonic()) * 1000))


def _status_and_body(result: Any) -> tuple[int, str]:
    """Read a handler's {"statusCode", "body"} result; None means 200, like API Gateway."""
    if result is None:
        return 200, ""
    if not isinstance(result, Mapping):
        raise TypeError(f"handler returned {type(result).__name__}, expected a dict or None")
    body = result.get("body")
    return int(result.get("statusCode", 200)), "" if body is None else str(body)


def _elapsed_ms(started_monotonic: float) -> int:
    return round((time.monotonic() - started_monotonic) * 1000)


class HandlerPool:
    """Runs the route handlers on worker threads, never on the event loop: they make blocking
    boto3 calls back into the Management API, which needs the loop to deliver them."""

    def __init__(self, handlers: Mapping[str, Handler], *, function_prefix: str, workers: int, log: Log) -> None:
        self._handlers = handlers
        self._function_prefix = function_prefix  # "{api_id}-{stage}", as Lambda function names go
        self._log = log
        self._executor = concurrent.futures.ThreadPoolExecutor(workers, thread_name_prefix="ws-gateway-handler")

    async def invoke(self, route_key: str, event: dict[str, Any], label: str) -> tuple[int, str] | None:
        """Run the route's handler on the pool and log one line; None if it raised."""
        handler = self._handlers.get(route_key)
        if handler is None:
            return 200, ""
        context = _LambdaContext(
            function_name=f"{self._function_prefix}-{route_key.lstrip('$')}",
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

    def shutdown(self) -> None:
        """Wait for running handlers; drop queued ones."""
        self._executor.shutdown(wait=True, cancel_futures=True)
