"""`make dev`: run the local stack until Ctrl-C."""
from __future__ import annotations

import signal
import sys
import threading

from .stack import LocalStack, PortInUse, Ports


def main() -> int:
    stack = LocalStack(Ports.from_env(), log=lambda line: print(line, flush=True))
    stopping = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stopping.set())
    try:
        stack.start()
        print(stack.banner(), flush=True)
        while not stopping.wait(1):
            pass
    except PortInUse as exc:
        print(f"cannot start: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        pass
    finally:
        print("stopping...", flush=True)
        stack.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
