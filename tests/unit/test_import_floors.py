"""The floors of chalicelib (docs/architecture.md): a package imports only packages on floors below it.

Every import counts, function-level ones included: an import deferred into a function still ties the
two packages together, and a loop of packages is what this test exists to prevent. So does a module
named to chalicelib.lazy (`lazy_module("chalicelib....")`; `lazy_modules` names the caller's own package).
"""
from __future__ import annotations

import ast
from pathlib import Path

import pytest

CHALICELIB = Path(__file__).resolve().parents[2] / "chalicelib"

# Lowest first. Each entry may import any entry before it and nothing after it; entries on one
# line (a floor) may not import each other.
FLOORS: list[tuple[str, ...]] = [
    ("config", "lazy"),
    ("clock", "errors", "ids", "i18n"),
    ("runtime",),
    ("storage", "outbound"),
    ("ratelimit", "events"),
    ("access",),
    ("web", "realtime"),
    ("audit",),
    ("transcripts", "bot", "canned", "reports", "mail"),
    ("surveys", "webhooks", "attachments"),
    ("conversations",),
    ("visitors", "alerts"),
    ("email_channel",),
    ("tenancy",),
    ("system", "sso"),
]
FLOOR_OF = {package: level for level, floor in enumerate(FLOORS) for package in floor}


def _package_of(path: Path) -> str:
    relative = path.relative_to(CHALICELIB)
    return relative.parts[0].removesuffix(".py")


def _imported_packages(path: Path) -> set[tuple[str, int]]:
    """(package of chalicelib, line) for every import in the module, at any depth."""
    module = ".".join(("chalicelib",) + path.relative_to(CHALICELIB).with_suffix("").parts)
    here = module.split(".") if path.name == "__init__.py" else module.split(".")[:-1]
    found = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.Call) and getattr(node.func, "id", None) == "lazy_module":
            names = [arg.value for arg in node.args if isinstance(arg, ast.Constant) and isinstance(arg.value, str)]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                base = ".".join(here[:len(here) - node.level + 1] + ([node.module] if node.module else []))
            names = [base] + [f"{base}.{alias.name}" for alias in node.names]
        else:
            continue
        for name in names:
            parts = name.split(".")
            if parts[0] == "chalicelib" and len(parts) > 1 and parts[1] in FLOOR_OF:
                found.add((parts[1], node.lineno))
    return found


MODULES = sorted(CHALICELIB.rglob("*.py"))


def test_every_package_of_chalicelib_has_a_floor():
    packages = {_package_of(path) for path in MODULES}
    assert packages - {"__init__"} == set(FLOOR_OF)


@pytest.mark.parametrize("path", MODULES, ids=lambda p: str(p.relative_to(CHALICELIB)))
def test_a_module_imports_only_from_floors_below_its_own(path: Path):
    own = _package_of(path)
    if own == "__init__":
        return
    upward = sorted(f"line {line}: chalicelib.{package} (floor {FLOOR_OF[package]}) from {own} (floor {FLOOR_OF[own]})"
                    for package, line in _imported_packages(path)
                    if package != own and FLOOR_OF[package] >= FLOOR_OF[own])
    assert upward == []
