"""moto's Query without a sort of the whole table: the local stack's embedded AWS runs with it.

moto's Table.query gathers its candidates from Table.all_items(), which sorts every item of the
table, and then keeps those of the one partition asked for (a base-table query) or tests every item
against the index key (an index query) before sorting the candidates again. So every Query, the
hot path's connection lookups and the queue's among them, sorts everything the table holds, and
the local stack slows down as it fills. Here a base-table query reads only its partition, and an
index query walks the items (still all of them: moto keeps no index) without sorting them first;
moto's own sort of the candidates still orders the answer, so what DynamoDB answers is unchanged.
"""
from __future__ import annotations

from contextlib import contextmanager
from typing import Any, Iterator


@contextmanager
def partition_queries() -> Iterator[None]:
    from moto.dynamodb.models.table import Table

    original = Table.query

    def query(table: Any, hash_key: Any, range_comparison: Any, range_objs: Any, limit: Any,
              exclusive_start_key: Any, scan_index_forward: Any, projection_expressions: Any,
              index_name: str | None = None, *args: Any, **kwargs: Any) -> Any:
        def candidates() -> list[Any]:
            if index_name is None:
                partition = table.items.get(hash_key)
                if partition is None:
                    return []
                return list(partition.values()) if table.range_key_attr else [partition]
            if table.range_key_attr:
                return [item for partition in table.items.values() for item in partition.values()]
            return list(table.items.values())

        table.all_items = candidates  # an instance attribute: only this call's lookups see it
        try:
            return original(table, hash_key, range_comparison, range_objs, limit, exclusive_start_key,
                            scan_index_forward, projection_expressions, index_name, *args, **kwargs)
        finally:
            del table.all_items

    Table.query = query
    try:
        yield
    finally:
        Table.query = original
