"""moto's responses with DynamoDB's attribute values written out directly: the embedded AWS runs with it.

moto 5 serializes every response by walking the operation's botocore shapes, and for each member of
each structure asks a chain of attribute pickers for its value under every alias it might have. An
item's every attribute is such a structure (AttributeValue, a union of S, N, B, M, L, ...), so a
Query answering a page of a thousand audit events spent four fifths of its time there, about 1.5 ms
an event. An attribute value is already the JSON it becomes, but for binary values, which are bytes
to be written in base64: that is all this writes, for that one shape, and moto's walk does the rest
(tests/unit/test_moto_serialization.py compares both on every kind of attribute value).
"""
from __future__ import annotations

import base64
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any


def _wire(value: dict[str, Any]) -> dict[str, Any]:
    """An attribute value as moto's serializer writes it."""
    ((kind, content),) = value.items()
    if kind == "B":
        return {kind: base64.b64encode(content).decode()}
    if kind == "BS":
        return {kind: [base64.b64encode(member).decode() for member in content]}
    if kind == "M":
        return {kind: {name: _wire(member) for name, member in content.items()}}
    if kind == "L":
        return {kind: [_wire(member) for member in content]}
    return {kind: content}


@contextmanager
def plain_attribute_values() -> Iterator[None]:
    from moto.core.serialize import ResponseSerializer

    original = ResponseSerializer._serialize

    def serialize(serializer: Any, serialized: Any, value: Any, shape: Any, key: str) -> None:
        if shape.name == "AttributeValue" and isinstance(value, dict) and len(value) == 1:
            serialized[serializer.get_serialized_name(shape, key)] = _wire(value)
        else:
            original(serializer, serialized, value, shape, key)

    ResponseSerializer._serialize = serialize
    try:
        yield
    finally:
        ResponseSerializer._serialize = original
