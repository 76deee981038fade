"""The packaged template, built once per run: `make package STAGE=prod` and AWS's SAM transform of it."""
from __future__ import annotations

import fcntl
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
DEPLOY_BIN = ROOT / ".venv-deploy" / "bin"


@pytest.fixture(scope="session")
def build(tmp_path_factory) -> Path:
    """Built by the first test worker that needs it; the others wait for it and read the same files
    (a package takes about 15 s). The run's temporary directory is shared by its workers."""
    if not (DEPLOY_BIN / "cfn-lint").exists():
        pytest.fail(".venv-deploy is missing: `make test` builds it")
    base = tmp_path_factory.getbasetemp()
    run_dir = base.parent if os.environ.get("PYTEST_XDIST_WORKER") else base
    build = run_dir / "package-build"
    with open(run_dir / "package-build.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not (build / "built").exists():
            build.mkdir(exist_ok=True)
            env = {k: v for k, v in os.environ.items() if not k.startswith("SWITCHBOARD_")}
            result = subprocess.run(["make", "-s", "package", "STAGE=prod", f"BUILD={build}",
                                     f"BIN={Path(sys.executable).parent}"],
                                    cwd=ROOT, env=env, capture_output=True, text=True, timeout=900)
            assert result.returncode == 0, result.stdout + result.stderr
            (build / "built").touch()
    return build


@pytest.fixture(scope="session")
def resources(build: Path) -> dict:
    result = subprocess.run([DEPLOY_BIN / "python", ROOT / "tests" / "deploy" / "sam_transform.py",
                             build / "sam.yaml", "Stage=prod"], capture_output=True, text=True, timeout=300,
                            env={**os.environ, "AWS_DEFAULT_REGION": "us-east-1"})
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)["Resources"]


def functions(resources: dict) -> dict[str, dict]:
    return {name: resource["Properties"] for name, resource in resources.items()
            if resource["Type"] == "AWS::Lambda::Function"}
