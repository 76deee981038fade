"""Fetching a URL a stranger chose, without letting it reach what only we can reach.

Any tenant can sign up and name an address (an OpenID issuer, later a webhook), so every outbound call
goes through `fetch`, which:
- takes https only (the local stack may also name http://127.0.0.1:<port>, with
  SWITCHBOARD_OUTBOUND_ALLOW_LOOPBACK, which only the local stack and tests set);
- resolves the host itself and refuses it if any address is not a public unicast one (private, loopback,
  link-local, shared, multicast, reserved, unspecified; IPv4-mapped and 6to4 forms are judged by the IPv4
  address inside), then connects to the very address it checked (TLS still verifies the host's name), so
  a DNS answer that changes between the check and the connection (rebinding) cannot move it;
- follows no redirect, waits at most a few seconds, and reads at most `max_bytes` of the answer.
"""
from __future__ import annotations

import ipaddress
import json
import socket
from dataclasses import dataclass
from typing import Any
from urllib.parse import SplitResult, urlencode, urlsplit

import urllib3

from ..runtime import runtime

MAX_BYTES = 512 * 1024
CONNECT_SECONDS = 3.0
READ_SECONDS = 5.0
_CHUNK = 16 * 1024
LOOPBACK_HOST = "127.0.0.1"


class FetchError(Exception):
    """The URL, its address or its answer is one we do not take; the message says which, never a secret."""


@dataclass(frozen=True)
class Answer:
    status: int
    body: bytes

    def json(self) -> Any:
        try:
            return json.loads(self.body)
        except ValueError:
            raise FetchError("the answer is not JSON") from None


def checked_url(url: str, *, allow_loopback: bool) -> tuple[SplitResult, str, int]:
    """The URL's parts, host and port if it is one we fetch at all (the address is checked when sent)."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    if parts.username is not None or parts.password is not None:
        raise FetchError("a URL with credentials in it is refused")
    if parts.scheme == "http" and not (allow_loopback and host == LOOPBACK_HOST):
        raise FetchError("only https:// URLs are fetched")
    if parts.scheme not in ("http", "https") or not host:
        raise FetchError("only https:// URLs are fetched")
    try:
        port = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError:
        raise FetchError("the URL's port is not a number") from None
    return parts, host, port


def fetch(url: str, *, form: dict[str, str] | None = None, data: bytes | None = None,
          headers: dict[str, str] | None = None, max_bytes: int = MAX_BYTES) -> Answer:
    """GET `url`, or POST `form` to it (application/x-www-form-urlencoded), or POST `data` as it is
    (the caller's headers say its type)."""
    allow_loopback = runtime().config.outbound_allow_loopback
    parts, host, port = checked_url(url, allow_loopback=allow_loopback)
    address = checked_address(host, port, allow_loopback=allow_loopback)
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    sent = {"Host": parts.netloc.rsplit("@", 1)[-1], "Accept": "application/json", **(headers or {})}
    body: str | bytes | None = data
    if form is not None:
        body = urlencode(form)
        sent["Content-Type"] = "application/x-www-form-urlencoded"
    timeout = urllib3.Timeout(connect=CONNECT_SECONDS, read=READ_SECONDS)
    pool: urllib3.HTTPConnectionPool
    if parts.scheme == "https":  # connect to the checked address; TLS checks the certificate against the name
        pool = urllib3.HTTPSConnectionPool(address, port, timeout=timeout, retries=False, maxsize=1,
                                           server_hostname=host, assert_hostname=host, cert_reqs="CERT_REQUIRED")
    else:
        pool = urllib3.HTTPConnectionPool(address, port, timeout=timeout, retries=False, maxsize=1)
    try:
        response = pool.urlopen("GET" if body is None else "POST", path, body=body, headers=sent,
                                redirect=False, preload_content=False, assert_same_host=False)
        try:
            if 300 <= response.status < 400:
                raise FetchError(f"{host} answered with a redirect ({response.status}); redirects are not followed")
            return Answer(response.status, _read_capped(response, max_bytes, host))
        finally:
            response.release_conn()
    except urllib3.exceptions.HTTPError as exc:
        raise FetchError(f"{host} could not be reached ({type(exc).__name__})") from None
    finally:
        pool.close()


def _read_capped(response: urllib3.BaseHTTPResponse, max_bytes: int, host: str) -> bytes:
    declared = response.headers.get("Content-Length")
    if declared and declared.isdigit() and int(declared) > max_bytes:
        raise FetchError(f"{host}'s answer is larger than {max_bytes} bytes")
    received = bytearray()
    for chunk in response.stream(_CHUNK):
        received += chunk
        if len(received) > max_bytes:
            raise FetchError(f"{host}'s answer is larger than {max_bytes} bytes")
    return bytes(received)


def checked_address(host: str, port: int, *, allow_loopback: bool) -> str:
    """The address to connect to: every address the host resolves to must be public (or, with
    allow_loopback, 127.0.0.1 itself); one that is not refuses the whole host."""
    try:
        found = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError):
        raise FetchError(f"{host} does not resolve") from None
    addresses = list(dict.fromkeys(str(info[4][0]) for info in found))
    for address in addresses:
        if not (allow_loopback and address == LOOPBACK_HOST) and not is_public(address):
            raise FetchError(f"{host} resolves to a non-public address ({address}); it is not fetched")
    if not addresses:
        raise FetchError(f"{host} does not resolve")
    return addresses[0]


def is_public(address: str) -> bool:
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address):
        embedded = ip.ipv4_mapped or ip.sixtofour or (ip.teredo[1] if ip.teredo else None)
        if embedded is not None:
            return is_public(str(embedded))
    return ip.is_global and not ip.is_multicast and not ip.is_reserved
