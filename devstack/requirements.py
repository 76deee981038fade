"""Print requirements.txt (what `chalice package` bundles) from pyproject.toml's runtime dependencies."""
from __future__ import annotations

import tomllib
from pathlib import Path

PYPROJECT = Path(__file__).resolve().parent.parent / "pyproject.toml"


def runtime_requirements() -> list[str]:
    with PYPROJECT.open("rb") as handle:
        return list(tomllib.load(handle)["project"]["dependencies"])


def render() -> str:
    header = "# Generated from pyproject.toml by `make requirements`; do not edit.\n"
    return header + "".join(f"{line}\n" for line in runtime_requirements())


if __name__ == "__main__":
    print(render(), end="")
