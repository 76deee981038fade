"""The e2e tenant: signed up on the module's local stack (tests/conftest.py's `stack`)."""
from __future__ import annotations

import pytest

from devstack.harness import RunningStack, sign_up


@pytest.fixture(scope="module")
def tenant(stack: RunningStack) -> dict:
    return sign_up(stack)
