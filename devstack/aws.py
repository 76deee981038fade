"""The embedded AWS: moto's server in a process of its own, processing one request at a time.

DynamoDB applies each request (a conditional write, a transaction) atomically. moto does not when
requests overlap in threads, so racing clients could both pass a condition. Serialising requests
restores per-request atomicity while clients still race each other between requests, as on AWS.

Its own process, because a request holds that one lock for as long as it runs: in the stack's process
it also waited there for the interpreter lock behind the gateway and the Lambda handlers' threads, so
every request queued behind that convoy, and the stack used about one of the machine's cores
(docs/benchmarks.md, section 3). `AwsProcess` starts `python -m devstack.aws PORT --until-stdin-closes`.
"""
from __future__ import annotations

import json
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

from .moto_kms_sign import kms_sign_as_aws
from .moto_post_policy import post_policies_enforced
from .moto_queries import partition_queries
from .moto_serialization import plain_attribute_values
from .moto_transactions import item_level_transactions

# Answered by this process, never by moto: the emails moto's SES kept in ?region= (devstack/mailbox.py renders them).
SENT_EMAILS_PATH = "/_devstack/ses/sent"
_START_TIMEOUT = 60.0


@contextmanager
def moto_fixes() -> Iterator[None]:
    """moto with five fixes (devstack/moto_*.py). Three leave DynamoDB's answers as they were: without
    them every chat message's transaction copies whole tables, every Query sorts a whole table, and each
    item answered costs moto's generic serializer about a millisecond, so the stack would get slower the
    more it holds. The fourth makes KMS Sign answer as AWS does (devstack/moto_kms_sign.py), the fifth
    refuses S3 POST uploads their policy refuses (devstack/moto_post_policy.py). The bench's in-process moto
    runs with them too, and the tests' with the KMS one (tests/aws_state.py)."""
    with item_level_transactions(), partition_queries(), plain_attribute_values(), kms_sign_as_aws(), \
            post_policies_enforced():
        yield


def _sent_emails(region: str) -> list[dict[str, Any]]:
    from moto.core import DEFAULT_ACCOUNT_ID
    from moto.ses.models import ses_backends

    fields = ("source", "destinations", "subject", "body", "raw_data")
    return [{name: getattr(sent, name) for name in fields if hasattr(sent, name)}
            for sent in ses_backends[DEFAULT_ACCOUNT_ID][region].sent_messages]


class _OneRequestAtATime:
    def __init__(self, app: Callable[..., Iterable[bytes]]) -> None:
        self._app = app
        self._lock = threading.Lock()

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> list[bytes]:
        with self._lock:
            if environ.get("PATH_INFO") == SENT_EMAILS_PATH:
                region = parse_qs(environ.get("QUERY_STRING", "")).get("region", ["us-east-1"])[0]
                body = json.dumps(_sent_emails(region)).encode()
                start_response("200 OK", [("Content-Type", "application/json"), ("Content-Length", str(len(body)))])
                return [body]
            return list(self._app(environ, start_response))


class EmbeddedAws:
    """moto's server on host:port in this process (the child AwsProcess starts)."""

    def __init__(self, host: str, port: int) -> None:
        from moto.moto_server.werkzeug_app import DomainDispatcherApplication, create_backend_app
        from werkzeug.serving import ThreadedWSGIServer, WSGIRequestHandler

        class QuietRequestHandler(WSGIRequestHandler):
            def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
                """Not even formatted: werkzeug builds each request's log line before the logger drops it."""

        # Created here, not in the thread, so a taken port fails start-up loudly.
        app = _OneRequestAtATime(DomainDispatcherApplication(create_backend_app))
        self._server = ThreadedWSGIServer(host, port, app, handler=QuietRequestHandler)
        self._thread = threading.Thread(target=self._server.serve_forever, name="embedded-aws", daemon=True)
        self._patches = ExitStack()

    def start(self) -> None:
        self._patches.enter_context(moto_fixes())
        self._thread.start()

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=10)
        self._patches.close()


class AwsProcess:
    """The embedded AWS as a child process; it stops when stop() closes its stdin, or when this
    process dies (and the pipe with it), so a killed stack leaves no moto behind."""

    def __init__(self, host: str, port: int) -> None:
        self._address = (host, port)
        self._process = subprocess.Popen(
            [sys.executable, "-m", "devstack.aws", str(port), "--until-stdin-closes"],
            cwd=Path(__file__).resolve().parents[1], stdin=subprocess.PIPE)

    def wait_ready(self) -> None:
        deadline = time.monotonic() + _START_TIMEOUT
        while self._process.poll() is None and time.monotonic() < deadline:
            try:
                socket.create_connection(self._address, timeout=1).close()
                return
            except OSError:
                time.sleep(0.05)
        self.stop()
        raise RuntimeError(f"the embedded AWS did not start on port {self._address[1]}")

    def stop(self) -> None:
        if self._process.stdin is not None and not self._process.stdin.closed:
            self._process.stdin.close()
        try:
            self._process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self._process.kill()
            self._process.wait()


def _serve(port: int, until_stdin_closes: bool) -> None:
    aws = EmbeddedAws("127.0.0.1", port)
    aws.start()
    stopping = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stopping.set())
    if until_stdin_closes:
        # Ctrl-C on `make dev` reaches the whole process group; the stack stops this AWS after its own
        # parts, whose last $disconnect handlers still call it.
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        threading.Thread(target=lambda: (sys.stdin.buffer.read(), stopping.set()), daemon=True).start()
    stopping.wait()
    aws.stop()


if __name__ == "__main__":  # `python -m devstack.aws PORT`: this AWS alone (the bench's audit export runs it)
    _serve(int(sys.argv[1]), "--until-stdin-closes" in sys.argv[2:])
