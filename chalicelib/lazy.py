"""Modules loaded on first use, so a Lambda container loads only what its requests need.

Every function of the app imports app.py, which registers every route. A routes module therefore
imports only its schemas (the decorator needs them to validate and to describe the route) and
names its service modules with `lazy_modules`: each is loaded by the first request that calls into
it, with the standard library's LazyLoader, and is an ordinary module from then on. A routes module
declares the same names for the type checker under TYPE_CHECKING.
"""
from __future__ import annotations

import importlib.util
import sys
from types import ModuleType


def lazy_module(name: str) -> ModuleType:
    """`name` (absolute), imported on its first attribute access; the module itself if already loaded."""
    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.find_spec(name)
    if spec is None or spec.loader is None:
        raise ModuleNotFoundError(name)
    loader = importlib.util.LazyLoader(spec.loader)
    spec.loader = loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    loader.exec_module(module)
    parent, _, child = name.rpartition(".")
    if parent:  # as an import would: the package names its submodule
        setattr(sys.modules[parent], child, module)
    return module


def lazy_modules(package: str | None, *names: str) -> tuple[ModuleType, ...]:
    """The named submodules of `package` (a module's __package__), each loaded on first use."""
    if not package:
        raise ValueError("lazy_modules needs the calling module's package")
    return tuple(lazy_module(f"{package}.{name}") for name in names)
