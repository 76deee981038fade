"""Every tenant, for the scheduled jobs that visit each one, through a sharded index (no scan)."""
from __future__ import annotations

from collections.abc import Iterator

from ..storage.helpers import all_shards, shard
from ..storage.tenants import TenantModel

PREFIX = "tenants"


def directory_shard(tenant_id: str) -> str:
    return shard(PREFIX, tenant_id)


def every_tenant() -> Iterator[TenantModel]:
    """Each tenant with its id and settings (the index projects nothing else)."""
    for tenant_shard in all_shards(PREFIX):
        yield from TenantModel.directory_index.query(tenant_shard)
