"""A tenant's endpoint for webhook tests: a real HTTP server on 127.0.0.1 (nothing leaves this machine)
that answers each delivery with the next status of a script (then 200), checks its signature and keeps
what it got."""
from __future__ import annotations

import hashlib
import hmac
import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass
class Received:
    body: bytes
    headers: dict[str, str]
    answered: int

    @property
    def event(self) -> dict[str, Any]:
        return json.loads(self.body)

    def signed_by(self, secret: str) -> bool:
        """Switchboard-Signature as docs/webhooks.md says a receiver verifies it."""
        parts = dict(part.split("=", 1) for part in self.headers["Switchboard-Signature"].split(","))
        expected = hmac.new(secret.encode(), f"{parts['t']}.".encode() + self.body, hashlib.sha256).hexdigest()
        return hmac.compare_digest(expected, parts["v1"])


@dataclass
class Receiver:
    url: str
    script: list[int] = field(default_factory=list)  # the next answers; 200 once it runs out
    received: list[Received] = field(default_factory=list)
    arrived: threading.Condition = field(default_factory=threading.Condition)

    def wait_for(self, count: int, timeout: float = 30.0) -> list[Received]:
        """Returns once `count` deliveries have arrived (woken by each; no polling)."""
        with self.arrived:
            assert self.arrived.wait_for(lambda: len(self.received) >= count, timeout), self.received
            return list(self.received)

    def events(self) -> list[dict[str, Any]]:
        return [got.event for got in self.received]


@contextmanager
def receiver(path: str = "/hooks") -> Iterator[Receiver]:
    made: list[Receiver] = []

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: object) -> None:
            pass

        def do_POST(self) -> None:
            box = made[0]
            body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
            status = box.script.pop(0) if box.script else 200
            # Recorded before the answer: once the sender has its answer, the test sees the request.
            with box.arrived:
                box.received.append(Received(body, dict(self.headers), status))
                box.arrived.notify_all()
            self.send_response(status)
            self.send_header("Content-Length", "0")
            self.end_headers()

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    made.append(Receiver(f"http://127.0.0.1:{server.server_address[1]}{path}"))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield made[0]
    finally:
        server.shutdown()
        server.server_close()
