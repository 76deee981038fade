"""The Switchboard-Signature a delivery carries, and the address rules at send time: what a webhook's
name resolves to is judged when it is sent, before any connection (the resolver is patched where
outbound/http.py calls it; nothing is sent anywhere)."""
from __future__ import annotations

import hashlib
import hmac
import socket
from collections.abc import Iterator
from dataclasses import replace

import pytest
import urllib3

from chalicelib.config import get_config
from chalicelib.outbound import http
from chalicelib.outbound.http import FetchError, fetch
from chalicelib.runtime import Runtime, use_runtime
from chalicelib.webhooks.signing import signature


def test_the_signature_is_t_and_the_hex_hmac_of_t_dot_body():
    body = b'{"event_id":"ev_1","type":"message.created"}'
    header = signature(b"whsec_abc", 1765000000, body)
    expected = hmac.new(b"whsec_abc", b"1765000000." + body, hashlib.sha256).hexdigest()
    assert header == f"t=1765000000,v1={expected}"
    assert signature(b"whsec_abc", 1765000001, body) != header
    assert signature(b"whsec_abd", 1765000000, body) != header


@pytest.fixture
def deployed() -> Iterator[None]:
    use_runtime(Runtime(config=replace(get_config(), outbound_allow_loopback=False)))
    yield
    use_runtime(None)


@pytest.fixture
def no_connection(monkeypatch) -> list[str]:
    """Any connection attempt fails the test: a refusal must come first."""
    tried: list[str] = []

    def refuse(*args, **kwargs):
        tried.append("connect")
        raise AssertionError("a connection was attempted")
    monkeypatch.setattr(urllib3.HTTPConnectionPool, "urlopen", refuse)
    return tried


def resolving_to(monkeypatch, *answers: str) -> list[str]:
    """hooks.example.com resolves to each answer in turn (a rebinding DNS server)."""
    asked: list[str] = []
    queue = list(answers)

    def getaddrinfo(host, port, *args, **kwargs):
        asked.append(host)
        address = queue.pop(0) if len(queue) > 1 else queue[0]
        family = socket.AF_INET6 if ":" in address else socket.AF_INET
        return [(family, socket.SOCK_STREAM, 6, "", (address, port))]
    monkeypatch.setattr(http.socket, "getaddrinfo", getaddrinfo)
    return asked


@pytest.mark.parametrize("address", ["10.1.2.3", "127.0.0.1", "169.254.169.254", "::1", "fe80::1",
                                     "::ffff:192.168.0.1", "::ffff:127.0.0.1", "100.64.0.1", "fd00::1"])
def test_a_name_resolving_to_a_non_public_address_is_refused_before_connecting(monkeypatch, deployed,
                                                                              no_connection, address: str):
    asked = resolving_to(monkeypatch, address)
    with pytest.raises(FetchError, match="non-public address"):
        fetch("https://hooks.example.com/in", data=b"{}", headers={"Content-Type": "application/json"})
    assert asked == ["hooks.example.com"] and no_connection == []


def test_rebinding_after_the_webhook_was_made_is_caught_at_send_time(monkeypatch, deployed, no_connection):
    resolving_to(monkeypatch, "10.0.0.5")  # public when the admin saved it, private now
    for _ in range(2):
        with pytest.raises(FetchError, match="non-public"):
            fetch("https://hooks.example.com/in", data=b"{}")
    assert no_connection == []


def test_plain_http_is_refused_when_deployed_before_resolving(monkeypatch, deployed, no_connection):
    asked = resolving_to(monkeypatch, "93.184.216.34")
    with pytest.raises(FetchError, match="only https"):
        fetch("http://hooks.example.com/in", data=b"{}")
    assert asked == [] and no_connection == []
