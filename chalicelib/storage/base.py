"""What every table model shares: the table's name and region, and a wrapped data key."""
from __future__ import annotations

from typing import Any, cast

from pynamodb.attributes import (
    BinaryAttribute,
    ListAttribute,
    MapAttribute,
    NumberAttribute,
    UnicodeAttribute,
    UTCDateTimeAttribute,
)
from pynamodb.models import MetaProtocol

from ..config import get_config

_config = get_config()


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
