"""What Chalice packages must match what pyproject declares."""
from __future__ import annotations

import json
from pathlib import Path

from devstack.requirements import render, runtime_requirements

ROOT = Path(__file__).resolve().parents[2]


def test_requirements_txt_is_generated_from_pyproject():
    assert (ROOT / "requirements.txt").read_text() == render(), "run `make requirements`"
    assert {"chalice", "boto3", "pynamodb", "pydantic", "cryptography"} <= {
        line.split("==")[0] for line in runtime_requirements()}


def test_chalice_config_has_dev_and_prod_stages():
    config = json.loads((ROOT / ".chalice" / "config.json").read_text())
    assert config["app_name"] == "switchboard"
    assert {"dev", "prod"} <= set(config["stages"])


def test_the_local_stack_is_not_packaged():
    # Chalice bundles app.py and chalicelib/ only; nothing there may import the dev stack.
    for path in [ROOT / "app.py", *(ROOT / "chalicelib").rglob("*.py")]:
        text = path.read_text()
        assert "devstack" not in text and "import websockets" not in text, path
