"""moto's Query without sorting the whole table: the local stack's embedded AWS runs with it.

moto's Table.query gathers its candidates from Table.all_items(), which sorts every item of the
table, keeps those of the one partition asked for (a base-table query) or tests every item against
the index key (an index query), sorts the candidates again, and then walks them from the first to
find where the page asked for starts. So every Query sorts everything the table holds, and paging
through one partition costs the square of its size: the local stack slows down as it fills, and an
export of a million audit events would take hours.

Here a base-table query of a table with a sort key reads its page straight off the partition: the
partition keeps its sort keys in order as items come and go (_SortedPartition), the start is found
by bisection (after the ExclusiveStartKey, at the bound of the key condition), and moto is handed
only the items from there to where its page will stop. An index query walks the items (still all
of them: moto keeps no index) without sorting them first. moto's own code still filters, sorts,
pages and projects the candidates it is given, so what DynamoDB answers is unchanged
(tests/unit/test_moto_queries.py compares both answers).
"""
from __future__ import annotations

from bisect import bisect_left, bisect_right, insort
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from operator import itemgetter
from typing import Any

# Key conditions whose matches start at range_objs[0] (in ascending order) or end at range_objs[-1].
_BOUNDED_BELOW = {"=", "EQ", ">", "GT", ">=", "GE", "BETWEEN", "BEGINS_WITH"}
_BOUNDED_ABOVE = {"=", "EQ", "<", "LT", "<=", "LE", "BETWEEN"}
_sort_value = itemgetter(0)


class _SortedPartition(dict):
    """One partition of a table, {sort key: item}, that can list its keys in order.

    The order is built on the first query and then kept as keys are added and removed (an append at
    the end, as sequence numbers do, costs a bisection); moto's writes (put, delete, transactions)
    only ever set and pop keys. Entries are (the key's cast value, the key): moto orders keys by
    their cast value, and within a partition no two keys share one."""

    _order: list[tuple[Any, Any]] | None = None

    def __reduce__(self) -> tuple[Any, ...]:
        # A copy (moto deep-copies tables for transactions and backups) builds its own order.
        return _SortedPartition, (dict(self),)

    def ordered(self) -> list[tuple[Any, Any]]:
        if self._order is None:
            self._order = sorted(((key.cast_value, key) for key in self), key=_sort_value)
        return self._order

    def __setitem__(self, key: Any, item: Any) -> None:
        if self._order is not None and key not in self:
            insort(self._order, (key.cast_value, key), key=_sort_value)
        super().__setitem__(key, item)

    def pop(self, key: Any, *default: Any) -> Any:
        if self._order is not None and key in self:
            del self._order[bisect_left(self._order, key.cast_value, key=_sort_value)]
        return super().pop(key, *default)

    def __delitem__(self, key: Any) -> None:
        self.pop(key)

    # moto calls none of these; were one called, the order is rebuilt on the next query.
    def _forget_order(method: Callable[..., Any]) -> Callable[..., Any]:  # type: ignore[misc]
        def forgetting(self: _SortedPartition, *args: Any, **kwargs: Any) -> Any:
            self._order = None
            return method(self, *args, **kwargs)
        return forgetting

    clear = _forget_order(dict.clear)
    popitem = _forget_order(dict.popitem)
    setdefault = _forget_order(dict.setdefault)
    update = _forget_order(dict.update)
    __ior__ = _forget_order(dict.__ior__)
    del _forget_order


def _page_candidates(table: Any, partition: _SortedPartition, range_comparison: str | None, range_objs: list[Any],
                     limit: int | None, exclusive_start_key: dict[str, Any] | None, forward: bool) -> list[Any]:
    """The items of the partition that moto's paging loop will look at for this page, in order.

    moto's loop keeps the items matching the key condition until the page holds `limit` items or
    the next would take it past 1 MB, and names the last one kept as LastEvaluatedKey when it stops
    at an item. So this is the items from the page's start to the first that stops the loop, or to
    the first past the key condition's range (a key condition is an interval of the sort order)."""
    from moto.dynamodb.models.dynamo_type import DynamoType
    from moto.dynamodb.models.table import RESULT_SIZE_LIMIT

    order = partition.ordered()
    bounded = range_comparison is not None and range_objs and range_objs[0].type == table.range_key_type
    if forward:
        position = 0
        if exclusive_start_key is not None:
            start = DynamoType(exclusive_start_key[table.range_key_attr]).cast_value
            position = bisect_right(order, start, key=_sort_value)
        if bounded and range_comparison in _BOUNDED_BELOW:
            position = max(position, bisect_left(order, range_objs[0].cast_value, key=_sort_value))
    else:
        position = len(order) - 1
        if exclusive_start_key is not None:
            start = DynamoType(exclusive_start_key[table.range_key_attr]).cast_value
            position = bisect_left(order, start, key=_sort_value) - 1
        if bounded and range_comparison in _BOUNDED_ABOVE:
            position = min(position, bisect_right(order, range_objs[-1].cast_value, key=_sort_value) - 1)
    step = 1 if forward else -1
    candidates: list[Any] = []
    kept = size = 0
    while 0 <= position < len(order):
        item = partition[order[position][1]]
        candidates.append(item)
        if kept == limit or size + item.size() > RESULT_SIZE_LIMIT:
            break  # the loop stops at this item
        if range_comparison is None or item.range_key.compare(range_comparison, range_objs):
            kept += 1
            size += item.size()
        elif kept:
            break  # past the range
        position += step
    return candidates


@contextmanager
def partition_queries() -> Iterator[None]:
    from moto.dynamodb.models.table import Table

    original = Table.query
    if getattr(original, "reads_one_partition", False):  # already on (the tests' moto, then moto_fixes())
        yield
        return

    def query(table: Any, hash_key: Any, range_comparison: Any, range_objs: Any, limit: Any,
              exclusive_start_key: Any, scan_index_forward: Any, projection_expressions: Any,
              index_name: str | None = None, *args: Any, **kwargs: Any) -> Any:
        def all_items() -> list[Any]:
            if table.range_key_attr:
                return [item for partition in table.items.values() for item in partition.values()]
            return list(table.items.values())

        candidates = all_items
        if index_name is None:
            partition = table.items.get(hash_key)
            if partition is None:
                candidates = list
            elif not table.range_key_attr:
                candidates = lambda: [partition]  # noqa: E731
            elif not set(kwargs) - {"hash_key_conditions", "range_key_conditions"}:
                # (else a legacy QueryFilter's fields, which moto pages differently: moto's own path)
                if not isinstance(partition, _SortedPartition):
                    table.items.default_factory = _SortedPartition
                    partition = table.items[hash_key] = _SortedPartition(partition)
                page = _page_candidates(table, partition, range_comparison, range_objs, limit,
                                        exclusive_start_key, scan_index_forward is not False)
                candidates, exclusive_start_key = lambda: page, None  # the page starts at the first
        table.all_items = candidates  # an instance attribute: only this call's lookups see it
        try:
            return original(table, hash_key, range_comparison, range_objs, limit, exclusive_start_key,
                            scan_index_forward, projection_expressions, index_name, *args, **kwargs)
        finally:
            del table.all_items

    query.reads_one_partition = True  # type: ignore[attr-defined]
    Table.query = query
    try:
        yield
    finally:
        Table.query = original
