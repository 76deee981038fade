"""The local stacks the tests start take their ports from free_port: ports that stay free while the stack
starts (an outgoing connection to moto once took one, and the whole worker's tests errored)."""
import socket
from pathlib import Path

import pytest

from devstack import harness


@pytest.fixture
def fresh_picker(monkeypatch):
    monkeypatch.setattr(harness, "_port_candidates", None)
    return monkeypatch


def ephemeral_low() -> int:
    return int(Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split()[0])


@pytest.mark.parametrize("worker, block_start", [("gw0", 10000), ("gw1", 12000)])
def test_ports_are_outside_the_ephemeral_range_in_the_workers_own_block(fresh_picker, worker, block_start):
    fresh_picker.setenv("PYTEST_XDIST_WORKER", worker)
    ports = {harness.free_port() for _ in range(20)}
    assert len(ports) == 20
    assert all(block_start <= port < block_start + 2000 < ephemeral_low() for port in ports)


def test_a_port_something_listens_on_is_passed_over(fresh_picker):
    fresh_picker.setenv("PYTEST_XDIST_WORKER", "gw3")
    fresh_picker.setattr(harness.random, "randrange", lambda _: 0)  # candidates from the block's start
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 16000))
        listener.listen()
        assert 16000 < harness.free_port() < 18000
