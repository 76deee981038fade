"""What a Lambda container builds once: configuration, clock and AWS clients.

Handlers reach the AWS edges only through `runtime()`, so tests and the local stack
inject their own (a moved clock, a fresh container) with `use_runtime()` instead of
patching modules.
"""
from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import Any, TypeVar

from .clock import Clock
from .config import Config, get_config

# The SDK's debug logs carry request bodies: frames posted to connections hold message text.
# Whatever log level a Lambda is given, they stay quiet, so no plaintext can reach a log.
for _wire_logger in ("botocore", "boto3", "urllib3", "s3transfer"):
    logging.getLogger(_wire_logger).setLevel(logging.WARNING)

T = TypeVar("T")


class Runtime:
    def __init__(self, config: Config | None = None, clock: Clock | None = None,
                 session: Any = None) -> None:
        self.config = config or get_config()
        self.clock = clock or Clock()
        # One boto3 session: it caches service models, so each further client is cheap.
        self._session = session
        self._clients: dict[tuple[str, str | None], Any] = {}
        self._cache: dict[str, Any] = {}
        # Re-entrant: a value built by once() may itself need a client.
        self._lock = threading.RLock()

    def client(self, service: str, endpoint_url: str | None = None) -> Any:
        """One boto3 client per service for the container's life (clients are thread-safe)."""
        key = (service, endpoint_url)
        with self._lock:
            if key not in self._clients:
                if self._session is None:
                    import boto3  # deferred: keeps handlers that never call AWS cheap to import

                    self._session = boto3.session.Session()
                self._clients[key] = self._session.client(
                    service, region_name=self.config.region, endpoint_url=endpoint_url)
            return self._clients[key]

    def once(self, name: str, build: Callable[[], T]) -> T:
        """A value computed on first use and kept for the container's life."""
        with self._lock:
            if name not in self._cache:
                self._cache[name] = build()
            value: T = self._cache[name]  # each name has one builder, so one type
            return value


_current: Runtime | None = None


def runtime() -> Runtime:
    global _current
    if _current is None:
        _current = Runtime()
    return _current


def use_runtime(rt: Runtime | None) -> None:
    global _current
    _current = rt


class Budget:
    """How much one invocation may still take on: a number of items, and Lambda's remaining time.

    A job asks at each point where it can stop cleanly; locally and in tests there is no Lambda
    context (None), so the number alone bounds it."""

    def __init__(self, items: int, context: Any, reserve_seconds: float) -> None:
        self._items, self._context, self._reserve_ms = items, context, reserve_seconds * 1000

    def spent(self, done: int) -> bool:
        if done >= self._items:
            return True
        remaining = getattr(self._context, "get_remaining_time_in_millis", None)
        return remaining is not None and remaining() < self._reserve_ms
