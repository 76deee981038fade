"""moto's TransactWriteItems made O(items) instead of O(tables): the local stack's embedded AWS and
the bench's in-process moto both run with it.

moto backs up every table a transaction names with copy.deepcopy before applying it, so each
transaction costs time in proportion to everything stored: every chat message (one transaction) and
every audit event (another) gets slower as the stack fills, and a day of 12,000 messages becomes
quadratic. Here the backup keeps only the items the transaction addresses and puts them back when
it is cancelled, which is all a rollback has to undo. What DynamoDB answers is unchanged.
"""
from __future__ import annotations

import copy
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any


class _CopyKeepingTables:
    """The `copy` module as moto's DynamoDB backend sees it, except that tables are not copied."""

    def __init__(self, table_type: type) -> None:
        self._table_type = table_type

    def __getattr__(self, name: str) -> Any:
        return getattr(copy, name)

    def deepcopy(self, value: Any, memo: Any = None) -> Any:
        return value if isinstance(value, self._table_type) else copy.deepcopy(value, memo)


@contextmanager
def item_level_transactions() -> Iterator[None]:
    from moto.dynamodb import models
    from moto.dynamodb.models.dynamo_type import DynamoType
    from moto.dynamodb.models.table import Table

    backend_type, original = models.DynamoDBBackend, models.DynamoDBBackend.transact_write_items

    def transact_write_items(backend: Any, transact_items: list[dict[str, Any]]) -> None:
        saved = []
        for entry in transact_items:
            op = next(iter(entry.values()))
            table = backend.get_table(op["TableName"])
            key = op.get("Key") or op["Item"]
            hash_key = DynamoType(key[table.hash_key_attr])
            range_key = DynamoType(key[table.range_key_attr]) if table.range_key_attr else None
            saved.append((table, hash_key, range_key, copy.deepcopy(table.get_item(hash_key, range_key))))
        try:
            original(backend, transact_items)
        except Exception:
            for table, hash_key, range_key, item in saved:
                _restore(table, hash_key, range_key, item)
            raise

    models.copy = _CopyKeepingTables(Table)
    backend_type.transact_write_items = transact_write_items
    try:
        yield
    finally:
        backend_type.transact_write_items = original
        models.copy = copy


def _restore(table: Any, hash_key: Any, range_key: Any, item: Any) -> None:
    if range_key is None:
        if item is None:
            table.items.pop(hash_key, None)
        else:
            table.items[hash_key] = item
        return
    if item is None:
        table.items.get(hash_key, {}).pop(range_key, None)
    else:
        table.items[hash_key][range_key] = item
