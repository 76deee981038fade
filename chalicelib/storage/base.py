"""What every table model shares: the table's name and region, and a wrapped data key."""
from __future__ import annotations

from pynamodb.attributes import BinaryAttribute, MapAttribute, NumberAttribute, UTCDateTimeAttribute

from ..config import get_config

_config = get_config()


def table_meta(name: str) -> type:
    class Meta:
        table_name = _config.table(name)
        region = _config.region

    return Meta


class WrappedKey(MapAttribute):
    """A tenant data key as KMS returned it: ciphertext only, never the plaintext."""
    version = NumberAttribute()
    wrapped = BinaryAttribute(legacy_encoding=False)
    created_at = UTCDateTimeAttribute()
