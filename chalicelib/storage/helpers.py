"""Transactions, refused conditions, pages and cursors shared by every service."""
from __future__ import annotations

import base64
import json
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from pynamodb.exceptions import DeleteError, PutError, TransactWriteError, UpdateError
from pynamodb.transactions import TransactWrite

from ..errors import ApiError, InvalidInput
from .base import shared_connection

PAGE_SIZE = 100
# Partitions of the sparse, global indexes that jobs walk (due replies, lapsed agents, tenants):
# enough that no single partition takes every tenant's writes.
SHARDS = 8


def shard(prefix: str, key: str) -> str:
    return f"{prefix}#{zlib.crc32(key.encode()) % SHARDS}"


def all_shards(prefix: str) -> list[str]:
    return [f"{prefix}#{n}" for n in range(SHARDS)]


def transaction() -> TransactWrite:
    """All-or-nothing writes: a failed condition anywhere leaves every item untouched."""
    return TransactWrite(connection=shared_connection())


def cancellation_codes(error: Exception) -> list[str | None]:
    """Per-item reasons of a cancelled transaction ('ConditionalCheckFailed', None, ...)."""
    reasons = getattr(error, "cancellation_reasons", None) or []
    return [reason.code if reason else None for reason in reasons]


def condition_failed(error: Exception) -> bool:
    """A single-item write refused by its condition (PutError, UpdateError, DeleteError)."""
    return getattr(error, "cause_response_code", None) == "ConditionalCheckFailedException"


class Refusal:
    """What refusal_means saw: true once a condition refused the write."""
    refused = False

    def __bool__(self) -> bool:
        return self.refused


@contextmanager
def refusal_means(error: ApiError | None = None) -> Iterator[Refusal]:
    """A write (or transaction) that a condition refused: raised as `error`; with no error, nothing
    is raised and the Refusal yielded turns true (the caller decides what the refusal means). Other
    failures pass."""
    outcome = Refusal()
    try:
        yield outcome
    except (PutError, UpdateError, DeleteError, TransactWriteError) as err:
        if not (condition_failed(err) or "ConditionalCheckFailed" in cancellation_codes(err)):
            raise
        if error is not None:
            raise error from None
        outcome.refused = True


def encode_cursor(last_key: dict[str, Any] | None) -> str | None:
    if not last_key:
        return None
    return base64.urlsafe_b64encode(json.dumps(last_key, sort_keys=True).encode()).decode()


def decode_cursor(cursor: str | None, key_names: set[str], pinned: dict[str, str]) -> dict[str, Any] | None:
    """A cursor is a page's last key. It must name exactly the listing's keys, with the pinned ones
    (the caller's tenant, or conversation) unchanged: a cursor cannot reach another tenant's rows."""
    if not cursor:
        return None
    try:
        key: object = json.loads(base64.urlsafe_b64decode(cursor.encode()))
    except (ValueError, TypeError):
        key = None
    if not (isinstance(key, dict) and set(key) == key_names
            and all(key.get(name) == {"S": value} for name, value in pinned.items())
            and all(isinstance(v, dict) and len(v) == 1 for v in key.values())):
        raise InvalidInput("cursor: not a cursor this listing returned")
    return key


def tenant_page(model: Any, tenant_id: str, cursor: str | None,
                limit: int = PAGE_SIZE) -> tuple[list[Any], str | None]:
    """One page of a tenant's items from a (tenant_id, range key) table, and the next page's cursor."""
    range_key = next(name for name, attribute in model.get_attributes().items() if attribute.is_range_key)
    page = model.query(tenant_id, limit=limit, last_evaluated_key=decode_cursor(
        cursor, {"tenant_id", range_key}, {"tenant_id": tenant_id}))
    items = list(page)
    return items, encode_cursor(page.last_evaluated_key)
