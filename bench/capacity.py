"""DynamoDB request units from item sizes, by DynamoDB's published rules (pure arithmetic).

Item size: the UTF-8 bytes of every attribute name plus its value. String: UTF-8 bytes; Binary: raw
bytes; Number: about 1 byte per 2 significant digits + 1; Boolean and Null: 1 byte; List and Map:
3 bytes + their elements + 1 byte per element; sets: the sum of their members.
Reads: 1 unit per 4 KB (a Query sums its items before rounding), half for eventually consistent
reads, double in transactions. Writes: 1 unit per 1 KB of the larger of the item before and after,
double in transactions; each secondary index the item enters, changes in or leaves adds its own write.
"""
from __future__ import annotations

import base64
import math
from typing import Any

READ_UNIT_BYTES = 4096
WRITE_UNIT_BYTES = 1024
WireItem = dict[str, dict[str, Any]]  # attribute name -> DynamoDB JSON value, e.g. {"S": "x"}


def number_size(text: str) -> int:
    digits = text.lstrip("-").replace(".", "").split("e")[0].split("E")[0].strip("0") or "0"
    return math.ceil(len(digits) / 2) + 1


def value_size(value: dict[str, Any]) -> int:
    (kind, raw), = value.items()
    if kind == "S":
        return len(raw.encode())
    if kind == "B":
        return len(base64.b64decode(raw)) if isinstance(raw, str) else len(raw)
    if kind == "N":
        return number_size(raw)
    if kind in ("BOOL", "NULL"):
        return 1
    if kind == "SS":
        return sum(len(member.encode()) for member in raw)
    if kind == "NS":
        return sum(number_size(member) for member in raw)
    if kind == "BS":
        return sum(value_size({"B": member}) for member in raw)
    if kind == "L":
        return 3 + sum(value_size(member) + 1 for member in raw)
    if kind == "M":
        return 3 + sum(len(name.encode()) + value_size(member) + 1 for name, member in raw.items())
    raise ValueError(f"unknown DynamoDB type {kind}")


def item_size(item: WireItem | None) -> int:
    return sum(len(name.encode()) + value_size(value) for name, value in (item or {}).items())


def read_units(total_bytes: int, *, consistent: bool, transactional: bool = False) -> float:
    """Units for one read of this many bytes (at least one 4 KB step, even for nothing found)."""
    steps = max(1, math.ceil(total_bytes / READ_UNIT_BYTES))
    return steps * (2 if transactional else 1) * (1 if consistent or transactional else 0.5)


def write_units(before: WireItem | None, after: WireItem | None, *, transactional: bool = False) -> int:
    """Units for one write that turns `before` into `after` (None: absent) on the base table."""
    steps = max(1, math.ceil(max(item_size(before), item_size(after)) / WRITE_UNIT_BYTES))
    return steps * (2 if transactional else 1)


def index_write_units(before: WireItem | None, after: WireItem | None, index_keys: list[str]) -> int:
    """Units one secondary index spends on a base-table write, given the item as that index
    projects it before and after (None: not in the index). A changed index key is a delete and a put."""
    if before == after:
        return 0
    if before is None or after is None or all(before[key] == after[key] for key in index_keys):
        return write_units(before, after)
    return write_units(before, None) + write_units(None, after)


def project(item: WireItem | None, index_keys: list[str], table_keys: list[str], projection: dict[str, Any]
            ) -> WireItem | None:
    """The item as an index holds it: None when it lacks an index key (sparse), else its keys and
    what the projection includes."""
    if item is None or any(key not in item for key in index_keys):
        return None
    kind = projection.get("ProjectionType", "ALL")
    keys = [*index_keys, *(key for key in table_keys if key not in index_keys)]
    if kind == "ALL":
        extra = [name for name in item if name not in keys]
    elif kind == "INCLUDE":
        extra = [name for name in projection.get("NonKeyAttributes", []) if name in item]
    else:
        extra = []
    return {name: item[name] for name in [*keys, *extra]}
