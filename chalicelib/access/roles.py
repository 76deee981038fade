"""The role sets that may do a thing: routes name them, and so does any check made outside a route."""
from __future__ import annotations

ADMIN = frozenset({"admin"})
SUPERVISOR_UP = frozenset({"admin", "supervisor"})
STAFF = frozenset({"admin", "supervisor", "agent", "compliance"})
# Those who work conversations (compliance reads them, never changes them).
DESK = frozenset({"admin", "supervisor", "agent"})
COMPLIANCE = frozenset({"admin", "compliance"})
