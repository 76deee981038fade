"""What a workload costs, counted where in-process moto answers each AWS request.

moto's BotocoreStubber sees every request of every botocore client in the process (boto3's and the
one pynamodb builds for itself), so one hook there counts them all by service and operation. For
DynamoDB it also reads the addressed items from moto's tables before and after each write, to charge
request units by item size and index projection (bench/capacity.py), and notes which table or index
each unit lands on. Lambda invocations are counted by the driver around each handler call.

Duration is counted once: an invocation's handler time is the CPU time of its thread minus the CPU
time spent inside this hook (moto answering, and the meter's own reads of moto's tables), so it is our
code and the AWS SDK's own work, never moto's. What a request would wait on AWS is not in it:
bench/pricing.py adds a stated round trip per request.
"""
from __future__ import annotations

import json
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from . import capacity

ACCOUNT_ID = "123456789012"  # moto's default account
# API Gateway meters WebSocket messages in 32 KB steps.
WS_MESSAGE_BYTES = 32 * 1024
_WRITES = {"PutItem", "UpdateItem", "DeleteItem"}


@dataclass
class Tally:
    """One phase of a workload: Lambda invocations, AWS requests and what they consume."""
    invocations: int = 0
    # CPU time in the handlers, moto's answers and the meter excluded; and that excluded time.
    handler_cpu_seconds: float = 0.0
    moto_cpu_seconds: float = 0.0
    calls: Counter = field(default_factory=Counter)  # "dynamodb.GetItem" -> requests
    read_units: float = 0.0
    write_units: float = 0.0
    write_units_by: Counter = field(default_factory=Counter)  # "table" or "table/index" -> write units
    ws_messages_in: int = 0
    ws_messages_out: int = 0
    rest_requests: int = 0

    def add(self, other: Tally) -> None:
        self.invocations += other.invocations
        self.handler_cpu_seconds += other.handler_cpu_seconds
        self.moto_cpu_seconds += other.moto_cpu_seconds
        self.calls.update(other.calls)
        self.read_units += other.read_units
        self.write_units += other.write_units
        self.write_units_by.update(other.write_units_by)
        self.ws_messages_in += other.ws_messages_in
        self.ws_messages_out += other.ws_messages_out
        self.rest_requests += other.rest_requests

    def requests(self, service: str) -> int:
        return sum(count for name, count in self.calls.items() if name.startswith(service + "."))

    def as_dict(self) -> dict[str, Any]:
        return {"invocations": self.invocations, "handler_cpu_seconds": round(self.handler_cpu_seconds, 4),
                "moto_cpu_seconds": round(self.moto_cpu_seconds, 4), "calls": dict(sorted(self.calls.items())),
                "dynamodb_requests": self.requests("dynamodb"), "read_units": self.read_units,
                "write_units": self.write_units, "write_units_by": dict(sorted(self.write_units_by.items())),
                "ws_messages_in": self.ws_messages_in,
                "ws_messages_out": self.ws_messages_out, "rest_requests": self.rest_requests}


class Meter:
    """Counts into the current phase's Tally while installed."""

    def __init__(self) -> None:
        self.tallies: dict[str, Tally] = {}
        self.current = "setup"
        self._inside_hook = 0.0  # CPU seconds this process spent inside the hook so far

    @property
    def tally(self) -> Tally:
        return self.tallies.setdefault(self.current, Tally())

    @contextmanager
    def phase(self, name: str) -> Iterator[Tally]:
        outer, self.current = self.current, name
        try:
            yield self.tally
        finally:
            self.current = outer

    def total(self, *names: str) -> Tally:
        out = Tally()
        for name in names or tuple(self.tallies):
            out.add(self.tallies.get(name, Tally()))
        return out

    def invoke(self, handler: Callable[..., Any], *args: Any, ws_frame: bool = False, rest: bool = False,
               **kwargs: Any) -> Any:
        """One Lambda invocation of `handler`; ws_frame: a WebSocket message in; rest: a REST request."""
        tally = self.tally
        tally.invocations += 1
        tally.ws_messages_in += ws_frame
        tally.rest_requests += rest
        started, hooked = time.thread_time(), self._inside_hook
        try:
            return handler(*args, **kwargs)
        finally:
            in_hook = self._inside_hook - hooked
            tally.handler_cpu_seconds += time.thread_time() - started - in_hook
            tally.moto_cpu_seconds += in_hook

    # --- the hook in moto --------------------------------------------------------------------
    @contextmanager
    def installed(self) -> Iterator[Meter]:
        from moto.core.botocore_stubber import BotocoreStubber

        original = BotocoreStubber.__call__
        meter = self

        def observed(stubber: Any, event_name: str, request: Any, **kwargs: Any) -> Any:
            return meter._observe(original, stubber, event_name, request, **kwargs)

        BotocoreStubber.__call__ = observed
        try:
            yield self
        finally:
            BotocoreStubber.__call__ = original

    def _observe(self, original: Callable[..., Any], stubber: Any, event_name: str, request: Any,
                 **kwargs: Any) -> Any:
        started = time.thread_time()
        try:
            return self._count(original, stubber, event_name, request, **kwargs)
        finally:
            self._inside_hook += time.thread_time() - started

    def _count(self, original: Callable[..., Any], stubber: Any, event_name: str, request: Any,
               **kwargs: Any) -> Any:
        _, service, operation = event_name.split(".", 2)
        body = json.loads(request.body or b"{}") if service == "dynamodb" else None
        touched = _writes_of(operation, body) if body is not None else []
        before = [_stored(request.url, table, key) for table, key, _ in touched]
        response = original(stubber, event_name, request, **kwargs)
        tally = self.tally
        tally.calls[f"{service}.{operation}"] += 1
        if service == "apigatewaymanagementapi" and operation == "PostToConnection":
            tally.ws_messages_out += max(1, -(-len(request.body or b"") // WS_MESSAGE_BYTES))
        if body is not None and response is not None:
            answer = json.loads(response.content or b"{}")
            tally.read_units += _read_units(operation, body, answer)
            for (table, key, transactional), old in zip(touched, before, strict=True):
                for where, units in _charged_write(request.url, table, old, _stored(request.url, table, key)[1],
                                                   transactional).items():
                    tally.write_units += units
                    tally.write_units_by[where] += units
        return response


# --- DynamoDB request units ----------------------------------------------------------------------
def _writes_of(operation: str, body: dict[str, Any]) -> list[tuple[str, dict[str, Any], bool]]:
    """(table, key or whole item, transactional) for every item a request writes or checks."""
    if operation in _WRITES:
        return [(body["TableName"], body.get("Key") or body["Item"], False)]
    if operation == "BatchWriteItem":
        return [(table, (entry.get("PutRequest") or {}).get("Item") or entry["DeleteRequest"]["Key"], False)
                for table, entries in body["RequestItems"].items() for entry in entries]
    if operation == "TransactWriteItems":
        # A ConditionCheck is charged like a write of the item it checks.
        return [(action["TableName"], action.get("Key") or action["Item"], True)
                for entry in body["TransactItems"] for action in entry.values()]
    return []


def _table(url: str, name: str) -> Any:
    from moto.dynamodb.models import dynamodb_backends

    region = url.split("//", 1)[1].split(".")[1]
    return dynamodb_backends[ACCOUNT_ID][region].get_table(name)


def _stored(url: str, table_name: str, key_or_item: dict[str, Any]) -> tuple[Any, dict[str, Any] | None]:
    """The table and the item as stored now (wire JSON), or None."""
    from moto.dynamodb.models.dynamo_type import DynamoType

    table = _table(url, table_name)
    hash_key = DynamoType(key_or_item[table.hash_key_attr])
    range_key = DynamoType(key_or_item[table.range_key_attr]) if table.range_key_attr else None
    found = table.get_item(hash_key, range_key)
    return table, (found.to_json()["Attributes"] if found is not None else None)


def _charged_write(url: str, table_name: str, before: tuple[Any, dict[str, Any] | None],
                   after: dict[str, Any] | None, transactional: bool) -> dict[str, float]:
    """Write units of one item's write, by where they land: the table, and each index it changes."""
    table, old = before
    kind = "transactional" if transactional else "standard"
    units = {f"{_short(table_name)} ({kind})": capacity.write_units(old, after, transactional=transactional)}
    table_keys = [key for key in (table.hash_key_attr, table.range_key_attr) if key]
    for index in [*table.global_indexes, *table.indexes]:
        index_keys = [key["AttributeName"] for key in index.schema]
        charged = capacity.index_write_units(capacity.project(old, index_keys, table_keys, index.projection or {}),
                                             capacity.project(after, index_keys, table_keys,
                                                              index.projection or {}), index_keys)
        if charged:
            units[f"{_short(table_name)}/{index.name}"] = charged
    return units


def _short(table_name: str) -> str:
    """A table's name without the stack's prefix ("switchboard-bench-conversations" -> "conversations")."""
    from chalicelib.config import get_config

    return table_name.removeprefix(get_config().stack + "-")


def _read_units(operation: str, body: dict[str, Any], answer: dict[str, Any]) -> float:
    consistent = bool(body.get("ConsistentRead"))
    if operation == "GetItem":
        return capacity.read_units(capacity.item_size(answer.get("Item")), consistent=consistent)
    if operation in ("Query", "Scan"):
        if "Items" not in answer:
            # Select=COUNT returns no items: charged for what it counted, at the keys-only size
            # of an index entry (about 100 bytes; every counting query here reads a sparse index).
            return capacity.read_units(100 * answer.get("ScannedCount", 0), consistent=consistent)
        return capacity.read_units(sum(capacity.item_size(item) for item in answer["Items"]), consistent=consistent)
    if operation == "BatchGetItem":
        return sum(capacity.read_units(capacity.item_size(item), consistent=bool(
            body["RequestItems"][table].get("ConsistentRead"))) for table, items in answer.get("Responses", {}).items()
            for item in items)
    if operation == "TransactGetItems":
        return sum(capacity.read_units(capacity.item_size(entry.get("Item")), consistent=True, transactional=True)
                   for entry in answer.get("Responses", []))
    return 0.0
