"""chalicelib/lazy.py: a lazily named module runs on its first use, once, and is the module from then on."""
from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from chalicelib.lazy import lazy_module, lazy_modules


@pytest.fixture
def package(tmp_path, monkeypatch):
    """A package whose modules record each time they run; `gated` waits in its run for the test's GATE."""
    root = tmp_path / "lazy_probe"
    root.mkdir()
    (root / "__init__.py").write_text(textwrap.dedent("""
        import threading
        RUNS = []
        ENTERED, GATE = threading.Event(), threading.Event()
    """))
    (root / "heavy.py").write_text(textwrap.dedent("""
        from lazy_probe import RUNS
        RUNS.append("heavy")
        def answer():
            return 42
    """))
    (root / "gated.py").write_text(textwrap.dedent("""
        from lazy_probe import ENTERED, GATE, RUNS
        ENTERED.set()
        GATE.wait(5)  # the test opens it once other threads want the module too
        RUNS.append("gated")
        def answer():
            return 7
    """))
    monkeypatch.syspath_prepend(str(tmp_path))
    yield __import__("lazy_probe")
    for name in [n for n in sys.modules if n == "lazy_probe" or n.startswith("lazy_probe.")]:
        del sys.modules[name]


def test_the_module_runs_only_on_first_use_and_only_once(package):
    (heavy,) = lazy_modules("lazy_probe", "heavy")
    assert package.RUNS == []
    assert heavy.answer() == 42
    assert heavy.answer() == 42
    assert package.RUNS == ["heavy"]


def test_an_import_after_it_finds_the_same_module(package):
    heavy = lazy_module("lazy_probe.heavy")
    from lazy_probe import heavy as imported

    assert imported is heavy
    assert imported.answer() == 42
    assert package.RUNS == ["heavy"]


def test_a_module_already_loaded_is_returned_as_it_is(package):
    import lazy_probe.heavy as loaded

    assert lazy_module("lazy_probe.heavy") is loaded
    assert package.RUNS == ["heavy"]


def test_threads_wanting_a_module_during_its_first_run_wait_and_it_runs_once(package):
    (gated,) = lazy_modules("lazy_probe", "gated")
    with ThreadPoolExecutor(8) as pool:
        first = pool.submit(lambda: gated.answer())
        assert package.ENTERED.wait(5)  # the first run is under way, held at the gate
        others = [pool.submit(lambda: gated.answer()) for _ in range(7)]
        package.GATE.set()
        answers = [first.result(5)] + [other.result(5) for other in others]
    assert answers == [7] * 8
    assert package.RUNS == ["gated"]


def test_a_missing_module_is_an_error_at_once(package):
    with pytest.raises(ModuleNotFoundError):
        lazy_module("lazy_probe.absent")


# What `import app` (every Lambda's cold start) runs, in a fresh interpreter: the routes and the plumbing
# under them, but no schema (the handlers' annotations name the models, read on a route's first call),
# no service module, no storage model, no WebSocket handler, no transcript crypto and no PyJWT; of the
# libraries, Chalice and the exception classes of botocore and pynamodb (chalicelib/errors.py maps them).
_WHAT_APP_RUNS = """
import json, sys
import app
print(json.dumps(sorted(name for name, module in sys.modules.items() if type(module).__name__ != "_Unloaded")))
"""


@pytest.fixture(scope="module")
def ran_by_importing_app() -> set[str]:
    root = Path(__file__).resolve().parents[2]
    ran = subprocess.run([sys.executable, "-c", _WHAT_APP_RUNS], cwd=root, capture_output=True, text=True,
                         check=True, env={**os.environ, "PYTHONPATH": str(root)})
    return set(json.loads(ran.stdout))


def test_importing_the_app_runs_no_service_module_and_no_schema(ran_by_importing_app):
    modules = {name for name in ran_by_importing_app if name.startswith("chalicelib")}
    assert "chalicelib.tenancy.routes" in modules and "chalicelib.web.routing" in modules
    services = ("chalicelib.conversations.websocket", "chalicelib.conversations.messages",
                "chalicelib.conversations.queries", "chalicelib.tenancy.auth", "chalicelib.transcripts.cipher",
                "chalicelib.audit.exports", "chalicelib.reports.summary", "chalicelib.mail.sending",
                "chalicelib.access.principals", "chalicelib.ratelimit", "chalicelib.web.openapi")
    assert not modules.intersection(services)
    assert not {name for name in modules if name.endswith(".schemas") or name.startswith("chalicelib.storage.")}
    # 35 when written; the blueprints of two-factor, single sign-on, attachments and webhooks added their
    # package and routes each; docs/architecture.md has the figure
    assert len(modules) <= 44, sorted(modules)


def test_importing_the_app_loads_neither_pydantic_nor_the_aws_sdk(ran_by_importing_app):
    roots = {name.split(".")[0] for name in ran_by_importing_app}
    assert not {"pydantic", "pydantic_core", "boto3", "s3transfer", "urllib3", "jwt", "cryptography"} & roots
    assert not {"pynamodb.models", "botocore.client", "botocore.session"} & ran_by_importing_app
