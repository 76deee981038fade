"""What every table model shares: the table's name and region, one connection, and a wrapped data key."""
from __future__ import annotations

import threading
from typing import Any, cast

from pynamodb.attributes import (
    BinaryAttribute,
    ListAttribute,
    MapAttribute,
    NumberAttribute,
    UnicodeAttribute,
    UTCDateTimeAttribute,
)
from pynamodb.connection import Connection, TableConnection
from pynamodb.models import MetaProtocol, Model

from ..config import get_config

_config = get_config()
_shared: Connection | None = None
_sharing = threading.Lock()


def shared_connection() -> Connection:
    """The container's one pynamodb connection to DynamoDB: every table's model and every transaction.

    pynamodb gives each model class a connection of its own, and each connection a botocore session and
    client of its own: each loads botocore's endpoint rules and DynamoDB's service model again, so a
    container's first request paid that once per table it touched. (The connection still keeps a botocore
    session per thread, as pynamodb does, since creating clients from one session is not thread-safe.)
    """
    global _shared
    with _sharing:
        if _shared is None:
            _shared = Connection(region=_config.region)
        return _shared


class TableModel(Model):
    """A table's model, on the shared connection."""

    @classmethod
    def _get_connection(cls) -> TableConnection:
        table = super()._get_connection()  # pynamodb's, cached on the class: the table's key schema
        shared = shared_connection()
        if table.connection is not shared:
            shared.add_meta_table(table.get_meta_table())
            table.connection = shared
        return table


def table_meta(name: str) -> MetaProtocol:
    class Meta:
        table_name = _config.table(name)
        region = _config.region

    # A model's Meta is a class that names the table; pynamodb's metaclass sets the rest of
    # MetaProtocol (host, timeouts, ...) on it when the model class is created.
    return cast(MetaProtocol, Meta)


def string_list() -> ListAttribute[str]:
    """A list of strings, empty by default. pynamodb types ListAttribute(of=X) as a list of X, which
    holds for maps; a list of UnicodeAttribute reads and writes str."""
    return cast("ListAttribute[str]", ListAttribute(of=UnicodeAttribute, default=list))


class WrappedKey(MapAttribute[str, Any]):
    """A tenant data key as KMS returned it: ciphertext only, never the plaintext."""
    version = NumberAttribute()
    wrapped = BinaryAttribute(legacy_encoding=False)
    created_at = UTCDateTimeAttribute()
