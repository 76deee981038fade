"""The REST API on Chalice's own local server, plus the local-only /dev/jobs, /dev/outbox,
/dev/inbound-email and /dev/ses-events endpoints.

/dev/* is answered here, outside the app, so it can never be deployed.
"""
from __future__ import annotations

import functools
import json
import time
from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

from chalice import Chalice
from chalice.config import Config
from chalice.local import ChaliceRequestHandler, LocalDevServer, LocalGatewayException, create_local_server

from .mailbox import Mailbox
from .scheduler import Scheduler

Log = Callable[[str], None]


class _RequestHandler(ChaliceRequestHandler):
    scheduler: Scheduler
    mailbox: Mailbox
    log_line: Log
    # TCP_NODELAY: an answer is written as its headers and then its body; on a kept-alive connection Nagle's
    # algorithm held the body until the client's delayed ACK of the headers, 40 ms or more on every request.
    disable_nagle_algorithm = True

    def _generic_handle(self) -> None:
        self._started = time.monotonic()
        path = urlsplit(self.path).path
        if path == "/dev/jobs" or path.startswith("/dev/jobs/"):
            self._dev_jobs(path)
        elif path in ("/dev/outbox", "/dev/ses-events", "/dev/inbound-email"):
            self._dev_mail(path)
        else:
            super()._generic_handle()

    # The base class binds its own _generic_handle to the verbs; bind ours instead.
    do_GET = do_PUT = do_POST = do_HEAD = do_DELETE = do_PATCH = do_OPTIONS = _generic_handle

    def __getattr__(self, name: str) -> Any:
        # Any other verb (TRACE, QUERY, ...) reaches the app too, which answers 405 in the contract's
        # shape where API Gateway would refuse it, instead of http.server's HTML 501.
        if name.startswith("do_"):
            return self._generic_handle
        raise AttributeError(name)

    def _send_http_response_with_body(self, code: int, headers: dict[str, Any], body: str | bytes) -> None:
        if self.command != "HEAD":
            return super()._send_http_response_with_body(code, headers, body)
        # HEAD, as API Gateway answers it: GET's status and headers (Content-Length too), never a body.
        self.send_response(code)
        self.send_header("Content-Length", str(len(body if isinstance(body, bytes) else body.encode("utf-8"))))
        self.send_header("Content-Type", headers.pop("Content-Type", "application/json"))
        self._send_headers(headers)

    def _dev_jobs(self, path: str) -> None:
        name = path.removeprefix("/dev/jobs").strip("/")
        if not name and self.command == "GET":
            return self._json(200, {"jobs": [job.describe() for job in self.scheduler.jobs.values()]})
        if name in self.scheduler.jobs and self.command == "POST":
            self._parse_payload()
            return self._json(200, {"job": name, "summary": self.scheduler.run(name)})
        self._json(404, {"error": {"code": "not_found", "message": f"No job {name!r}."}})

    def _dev_mail(self, path: str) -> None:
        if path == "/dev/outbox" and self.command == "GET":
            return self._json(200, self.mailbox.outbox())
        if path == "/dev/outbox" and self.command == "HEAD":  # the console asks whether this is the local stack
            return self._json(200, {})
        if path == "/dev/inbound-email" and self.command == "POST":
            return self._json(*self.mailbox.inbound_email(self._parse_payload()[1] or b""))
        if path == "/dev/ses-events" and self.command == "POST":
            return self._json(200, {"delivered": self.mailbox.ses_event(self._parse_payload()[1] or b"")})
        self._json(405, {"error": {"code": "method_not_allowed", "message": f"{self.command} is not allowed here."}})

    def _json(self, status: int, body: Any) -> None:
        self._send_http_response(status, {}, json.dumps(body, default=str))

    def _send_error_response(self, error: LocalGatewayException) -> None:
        # API Gateway's own refusals (no such route: 403 "Missing Authentication Token")
        # get the contract's shape; deploy configures the same Gateway Responses.
        status, code = (404, "not_found") if error.CODE == 403 else (error.CODE, "error")
        self._json(status, {"error": {"code": code, "message": "No such route." if status == 404
                                      else "The request was refused."}})

    def log_request(self, code: Any = "-", size: Any = "-") -> None:
        # One line a request, path only: query strings never reach the log.
        elapsed = int((time.monotonic() - getattr(self, "_started", time.monotonic())) * 1000)
        self.log_line(f"http {self.command} {urlsplit(self.path).path} {code} {elapsed}ms")

    def log_message(self, format: str, *args: Any) -> None:
        pass


def rest_server(app: Chalice, host: str, port: int, scheduler: Scheduler, mailbox: Mailbox,
                log: Log) -> LocalDevServer:
    handler = type("RequestHandler", (_RequestHandler,), {"scheduler": scheduler, "mailbox": mailbox,
                                                          "log_line": staticmethod(log)})
    config = Config.create(chalice_stage="dev", app_name="switchboard", chalice_app=app,
                           lambda_timeout=60, lambda_memory_size=512)
    # create_local_server also makes the app's current_request thread-local for the threaded server.
    server = create_local_server(app, config, host, port)
    server.server.RequestHandlerClass = functools.partial(handler, app_object=app, config=config)
    return server
