"""A daemon thread that calls one function at a fixed pace until stopped (scheduler, queue feeder)."""
from __future__ import annotations

import threading
from collections.abc import Callable


class BackgroundLoop:
    def __init__(self, name: str, every_seconds: float, tick: Callable[[], None]) -> None:
        self._every, self._tick = every_seconds, tick
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout=30)

    def _run(self) -> None:
        while not self._stop.wait(self._every):
            self._tick()
