"""The embedded AWS: moto's server, processing one request at a time.

DynamoDB applies each request (a conditional write, a transaction) atomically. moto does not when
requests overlap in threads, so racing clients could both pass a condition. Serialising requests
restores per-request atomicity while clients still race each other between requests, as on AWS.
"""
from __future__ import annotations

import logging
import signal
import sys
import threading
from collections.abc import Callable, Iterable, Iterator
from contextlib import ExitStack, contextmanager
from typing import Any

from moto.moto_server.werkzeug_app import DomainDispatcherApplication, create_backend_app
from werkzeug.serving import BaseWSGIServer, make_server

from .moto_queries import partition_queries
from .moto_serialization import plain_attribute_values
from .moto_transactions import item_level_transactions


@contextmanager
def faster_moto() -> Iterator[None]:
    """moto with three fixes (devstack/moto_*.py), each leaving DynamoDB's answers as they were.
    Without them every chat message's transaction copies whole tables, every Query sorts a whole table,
    and each item answered costs moto's generic serializer about a millisecond: the stack would get
    slower the more it holds. The bench's in-process moto runs with them too."""
    with item_level_transactions(), partition_queries(), plain_attribute_values():
        yield


class _OneRequestAtATime:
    def __init__(self, app: Callable[..., Iterable[bytes]]) -> None:
        self._app = app
        self._lock = threading.Lock()

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> list[bytes]:
        with self._lock:
            return list(self._app(environ, start_response))


class EmbeddedAws:
    def __init__(self, host: str, port: int) -> None:
        logging.getLogger("werkzeug").setLevel(logging.ERROR)  # moto's per-request log
        # Created here, not in the thread, so a taken port fails start-up loudly.
        self._server: BaseWSGIServer = make_server(
            host, port, _OneRequestAtATime(DomainDispatcherApplication(create_backend_app)), threaded=True)
        self._thread = threading.Thread(target=self._server.serve_forever, name="embedded-aws", daemon=True)
        self._patches = ExitStack()

    def start(self) -> None:
        self._patches.enter_context(faster_moto())
        self._thread.start()

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=10)
        self._patches.close()


if __name__ == "__main__":  # `python -m devstack.aws PORT`: this AWS alone (the bench's audit export runs it)
    aws = EmbeddedAws("127.0.0.1", int(sys.argv[1]))
    aws.start()
    stopping = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stopping.set())
    stopping.wait()
    aws.stop()
