"""The packaged template, built once per run: `make package STAGE=prod` and AWS's SAM transform of it."""
from __future__ import annotations

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
    if not (DEPLOY_BIN / "cfn-lint").exists():
        pytest.fail(".venv-deploy is missing: `make test` builds it")
    build = tmp_path_factory.mktemp("build")
    env = {k: v for k, v in os.environ.items() if not k.startswith("SWITCHBOARD_")}
    result = subprocess.run(["make", "-s", "package", "STAGE=prod", f"BUILD={build}",
                             f"BIN={Path(sys.executable).parent}"],
                            cwd=ROOT, env=env, capture_output=True, text=True, timeout=900)
    assert result.returncode == 0, result.stdout + result.stderr
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
