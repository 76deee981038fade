"""Modules loaded on first use, so a Lambda container loads only what its requests need.

Every function of the app imports app.py, which registers every route. A routes module therefore
names its schemas and its service modules with `lazy_modules` (its handlers' annotations name the
models, read on a route's first call: chalicelib/web/routing.py): each is run by the first request
that calls into it (under a lock, so concurrent requests see it run once and whole) and is an ordinary
module from then on. A routes module declares the same names for the type checker under TYPE_CHECKING.
"""
from __future__ import annotations

import importlib.util
import sys
import threading
from types import ModuleType

# A lock per module for its first load (as Python 3.12's LazyLoader has): threads wanting other modules
# never wait on it. Re-entrant: a module's own first run may touch it again (a self-import).
_LOCKS: dict[str, threading.RLock] = {}
_RUNNING: set[str] = set()  # modules whose first run their lock's holder is in


class _Unloaded(ModuleType):
    """A module named but not run yet: the first attribute access runs it, once, whatever the threads.

    The standard library's LazyLoader does the same without a lock before Python 3.12, so two threads
    (the local stack's server, a test's pool) could both run the module, one of them reading it half
    made. Here the others wait on its lock, and its class becomes ModuleType once it has run.
    """

    def __getattribute__(self, attr: str) -> object:
        if object.__getattribute__(self, "__class__") is _Unloaded:
            spec = object.__getattribute__(self, "__spec__")
            with _LOCKS[spec.name]:
                if object.__getattribute__(self, "__class__") is _Unloaded and spec.name not in _RUNNING:
                    _RUNNING.add(spec.name)
                    try:
                        spec.loader.exec_module(self)
                        object.__setattr__(self, "__class__", ModuleType)
                    finally:
                        _RUNNING.discard(spec.name)
        return ModuleType.__getattribute__(self, attr)


def lazy_module(name: str) -> ModuleType:
    """`name` (absolute), run on its first attribute access; the module itself if already loaded."""
    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.find_spec(name)
    if spec is None or spec.loader is None:
        raise ModuleNotFoundError(name)
    module = importlib.util.module_from_spec(spec)
    _LOCKS[name] = threading.RLock()
    module.__class__ = _Unloaded
    sys.modules[name] = module
    parent, _, child = name.rpartition(".")
    if parent:  # as an import would: the package names its submodule
        setattr(sys.modules[parent], child, module)
    return module


def lazy_modules(package: str | None, *names: str) -> tuple[ModuleType, ...]:
    """The named submodules of `package` (a module's __package__), each loaded on first use."""
    if not package:
        raise ValueError("lazy_modules needs the calling module's package")
    return tuple(lazy_module(f"{package}.{name}") for name in names)
