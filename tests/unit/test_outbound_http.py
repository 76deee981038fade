"""The safe fetcher (chalicelib/outbound/http.py) refuses what a stranger's URL could aim at: non-https,
credentials in the URL, private, loopback, link-local, shared, multicast, reserved and IPv4-mapped private
addresses (by literal or by name), redirects and answers over the size cap; and fetches the local stack's
http://127.0.0.1:<port> only when SWITCHBOARD_OUTBOUND_ALLOW_LOOPBACK is set."""
from __future__ import annotations

import threading
from collections.abc import Iterator
from dataclasses import replace
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from chalicelib.config import get_config
from chalicelib.outbound.http import FetchError, fetch, is_public
from chalicelib.runtime import Runtime, use_runtime

BIG = 2048


class _Handler(BaseHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:
        pass

    def do_GET(self) -> None:
        if self.path == "/redirect":
            self.send_response(302)
            self.send_header("Location", "http://169.254.169.254/latest/meta-data/")
            self.send_header("Content-Length", "0")
            self.end_headers()
        elif self.path == "/big":  # no Content-Length: the cap must hold while reading
            self.send_response(200)
            self.send_header("Connection", "close")
            self.end_headers()
            self.wfile.write(b"x" * (BIG + 1))
        elif self.path == "/big-declared":
            self.send_response(200)
            self.send_header("Content-Length", str(BIG + 1))
            self.end_headers()
            self.wfile.write(b"x" * (BIG + 1))
        else:
            body = b'{"ok": true}'
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)


@pytest.fixture
def server() -> Iterator[str]:
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()
    httpd.server_close()


def container(allow_loopback: bool) -> None:
    use_runtime(Runtime(config=replace(get_config(), outbound_allow_loopback=allow_loopback)))


@pytest.fixture(autouse=True)
def deployed() -> Iterator[None]:
    container(allow_loopback=False)
    yield
    use_runtime(None)


@pytest.mark.parametrize("url", [
    "https://10.0.0.1/", "https://192.168.1.1/", "https://172.16.0.1/",  # private
    "https://127.0.0.1/", "https://localhost/", "https://[::1]/",  # loopback, by literal and by name
    "https://169.254.169.254/latest/meta-data/", "https://[fe80::1]/",  # link-local (the metadata service)
    "https://100.64.0.1/",  # shared address space (carrier NAT)
    "https://224.0.0.1/", "https://[ff02::1]/",  # multicast
    "https://240.0.0.1/", "https://0.0.0.0/",  # reserved, unspecified
    "https://[::ffff:10.0.0.1]/", "https://[::ffff:127.0.0.1]/",  # IPv4-mapped
    "https://[2002:a00:1::]/",  # 6to4 wrapping 10.0.0.1
])
def test_a_non_public_address_is_refused_before_any_connection(url: str):
    with pytest.raises(FetchError, match="non-public address"):
        fetch(url)


@pytest.mark.parametrize("url", ["http://example.com/", "ftp://example.com/", "file:///etc/passwd",
                                 "https://user:pass@example.com/", "https:///nohost"])
def test_only_plain_https_urls_are_taken(url: str):
    with pytest.raises(FetchError):
        fetch(url)


def test_loopback_is_refused_unless_the_local_stack_allows_it(server: str):
    with pytest.raises(FetchError, match="only https"):
        fetch(server + "/ok")
    container(allow_loopback=True)
    assert fetch(server + "/ok").json() == {"ok": True}
    # Even then: only 127.0.0.1 itself, never another private address, and never http elsewhere.
    for url in ("https://10.0.0.1/", "https://[::ffff:127.0.0.1]/"):
        with pytest.raises(FetchError, match="non-public"):
            fetch(url)
    with pytest.raises(FetchError, match="only https"):
        fetch("http://localhost:1/")


def test_a_redirect_is_not_followed(server: str):
    container(allow_loopback=True)
    with pytest.raises(FetchError, match="redirect"):
        fetch(server + "/redirect")


@pytest.mark.parametrize("path", ["/big", "/big-declared"])
def test_an_answer_over_the_cap_is_refused(server: str, path: str):
    container(allow_loopback=True)
    with pytest.raises(FetchError, match="larger than"):
        fetch(server + path, max_bytes=BIG)
    assert len(fetch(server + path, max_bytes=BIG + 1).body) == BIG + 1


def test_public_addresses_pass_the_check():
    assert all(is_public(address) for address in ("8.8.8.8", "1.1.1.1", "2606:4700:4700::1111"))
