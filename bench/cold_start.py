"""Section 4, cold start: importing the Lambda entry point (app.py) in a fresh interpreter, as a
ratio to importing boto3 alone. Each figure is the median wall time of `python -c "import X"` minus
the median of `python -c pass` (the interpreter's own start), runs interleaved so drift hits all three."""
from __future__ import annotations

import os
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
STATEMENTS = {"interpreter": "pass", "boto3": "import boto3", "app": "import app"}


def run(runs: int, progress: Callable[[str], None] = print) -> dict[str, Any]:
    env = {**os.environ, "PYTHONDONTWRITEBYTECODE": "1"}
    seconds: dict[str, list[float]] = {name: [] for name in STATEMENTS}
    for _ in range(runs):
        for name, statement in STATEMENTS.items():
            started = time.perf_counter()
            subprocess.run([sys.executable, "-c", statement], cwd=ROOT, env=env, check=True)
            seconds[name].append(time.perf_counter() - started)
    median = {name: statistics.median(values) for name, values in seconds.items()}
    app_ms = 1000 * (median["app"] - median["interpreter"])
    boto3_ms = 1000 * (median["boto3"] - median["interpreter"])
    progress(f"  cold start: import app {app_ms:.0f} ms, import boto3 {boto3_ms:.0f} ms (medians of {runs})")
    return {"runs": runs, "app_import_ms": app_ms, "boto3_import_ms": boto3_ms,
            "interpreter_ms": 1000 * median["interpreter"], "cold_import_ratio": app_ms / boto3_ms,
            "app_modules": _modules_loaded("import app", env), "boto3_modules": _modules_loaded("import boto3", env)}


def _modules_loaded(statement: str, env: dict[str, str]) -> int:
    """How many modules the import loads beyond a bare interpreter (a count: why the time is what it is)."""
    probe = f"import sys; before = len(sys.modules); {statement}; print(len(sys.modules) - before)"
    return int(subprocess.run([sys.executable, "-c", probe], cwd=ROOT, env=env, check=True, capture_output=True,
                              text=True).stdout)
