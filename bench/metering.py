"""What a workload costs, counted where in-process moto answers each AWS request.

moto's BotocoreStubber sees every request of every botocore client in the process (boto3's and the
one pynamodb builds for itself), so one hook there counts them all by service and operation. For
DynamoDB it also reads the addressed items from moto's tables before and after each write, to charge
request units by item size and index projection (bench/capacity.py). Lambda invocations are counted
by the driver around each handler call, with the handler's in-process time.
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
    handler_seconds: float = 0.0
    calls: Counter = field(default_factory=Counter)  # "dynamodb.GetItem" -> requests
    read_units: float = 0.0
    write_units: float = 0.0
    ws_messages_in: int = 0
    ws_messages_out: int = 0
    rest_requests: int = 0

    def add(self, other: Tally) -> None:
        self.invocations += other.invocations
        self.handler_seconds += other.handler_seconds
        self.calls.update(other.calls)
        self.read_units += other.read_units
        self.write_units += other.write_units
        self.ws_messages_in += other.ws_messages_in
        self.ws_messages_out += other.ws_messages_out
        self.rest_requests += other.rest_requests

    def requests(self, service: str) -> int:
        return sum(count for name, count in self.calls.items() if name.startswith(service + "."))

    def as_dict(self) -> dict[str, Any]:
        return {"invocations": self.invocations, "handler_seconds": round(self.handler_seconds, 4),
                "calls": dict(sorted(self.calls.items())), "read_units": self.read_units,
                "write_units": self.write_units, "ws_messages_in": self.ws_messages_in,
                "ws_messages_out": self.ws_messages_out, "rest_requests": self.rest_requests}


class Meter:
    """Counts into the current phase's Tally while installed."""

    def __init__(self) -> None:
        self.tallies: dict[str, Tally] = {}
        self.current = "setup"
        self._original: Callable[..., Any] | None = None

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
        started = time.perf_counter()
        try:
            return handler(*args, **kwargs)
        finally:
            tally.handler_seconds += time.perf_counter() - started

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
                tally.write_units += _charged_write(request.url, table, old, _stored(request.url, table, key)[1],
                                                    transactional)
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
                   after: dict[str, Any] | None, transactional: bool) -> float:
    table, old = before
    units = capacity.write_units(old, after, transactional=transactional)
    table_keys = [key for key in (table.hash_key_attr, table.range_key_attr) if key]
    for index in [*table.global_indexes, *table.indexes]:
        index_keys = [key["AttributeName"] for key in index.schema]
        units += capacity.index_write_units(capacity.project(old, index_keys, table_keys, index.projection or {}),
                                            capacity.project(after, index_keys, table_keys, index.projection or {}),
                                            index_keys)
    return units


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
