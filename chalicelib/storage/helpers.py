"""Transactions and page cursors shared by every service."""
from __future__ import annotations

import base64
import json
from typing import Any

from pynamodb.connection import Connection
from pynamodb.transactions import TransactWrite

from ..errors import InvalidInput
from ..runtime import runtime


def transaction() -> TransactWrite:
    """All-or-nothing writes: a failed condition anywhere leaves every item untouched."""
    rt = runtime()
    connection = rt.once("pynamodb_connection", lambda: Connection(region=rt.config.region))
    return TransactWrite(connection=connection)


def cancellation_codes(error: Exception) -> list[str | None]:
    """Per-item reasons of a cancelled transaction ('ConditionalCheckFailed', None, ...)."""
    reasons = getattr(error, "cancellation_reasons", None) or []
    return [reason.code if reason else None for reason in reasons]


def encode_cursor(last_key: dict[str, Any] | None) -> str | None:
    if not last_key:
        return None
    return base64.urlsafe_b64encode(json.dumps(last_key, sort_keys=True).encode()).decode()


def decode_cursor(cursor: str | None, tenant_id: str, key_names: set[str]) -> dict[str, Any] | None:
    """A cursor is a page's last key; one naming another tenant or other keys is rejected."""
    if not cursor:
        return None
    try:
        key = json.loads(base64.urlsafe_b64decode(cursor.encode()))
        valid = (isinstance(key, dict) and set(key) == key_names
                 and key.get("tenant_id") == {"S": tenant_id}
                 and all(isinstance(v, dict) and len(v) == 1 for v in key.values()))
    except (ValueError, TypeError):
        valid = False
    if not valid:
        raise InvalidInput("cursor: not a cursor this listing returned")
    return key
