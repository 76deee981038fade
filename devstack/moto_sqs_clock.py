"""moto's SQS on the app's clock, for in-process tests that move time instead of waiting.

moto keeps a message's delay and visibility by the real time (moto.sqs.models reads
moto.core.utils.unix_time/unix_time_millis); a test that advances chalicelib's clock by an hour would
still wait an hour for a delayed retry. Inside this context SQS reads `clock` instead, so a delivery
retried after 30 s is received once the test has moved the clock 30 s (tests/functional/test_webhooks.py).
"""
from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from chalicelib.clock import Clock


@contextmanager
def sqs_on_clock(clock: Clock) -> Iterator[None]:
    import moto.sqs.models as sqs_models

    saved: dict[str, Any] = {"unix_time": sqs_models.unix_time, "unix_time_millis": sqs_models.unix_time_millis}
    sqs_models.unix_time = lambda *_: clock.now()  # type: ignore[assignment]
    sqs_models.unix_time_millis = lambda *_: clock.now() * 1000  # type: ignore[assignment]
    try:
        yield
    finally:
        for name, value in saved.items():
            setattr(sqs_models, name, value)
