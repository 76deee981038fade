"""The tenants table: one item per tenant, with its settings, data keys and directory shard."""
from __future__ import annotations

from collections.abc import Iterator

from pynamodb.attributes import JSONAttribute, ListAttribute, NumberAttribute, UnicodeAttribute, UTCDateTimeAttribute
from pynamodb.exceptions import DoesNotExist
from pynamodb.indexes import GlobalSecondaryIndex, IncludeProjection

from ..errors import NotFound
from .base import TableModel, WrappedKey, string_list, table_meta
from .helpers import all_shards, shard


class TenantDirectoryIndex(GlobalSecondaryIndex["TenantModel"]):
    """Every tenant, for the jobs that visit each one (retention, audit-verify), without a scan."""
    class Meta:
        index_name = "directory-index"
        projection = IncludeProjection(["settings"])

    directory_shard = UnicodeAttribute(hash_key=True)
    tenant_id = UnicodeAttribute(range_key=True)


class TenantModel(TableModel):
    Meta = table_meta("tenants")
    tenant_id = UnicodeAttribute(hash_key=True)
    directory_shard = UnicodeAttribute()
    directory_index = TenantDirectoryIndex()
    name = UnicodeAttribute()
    widget_key = UnicodeAttribute()
    created_at = UTCDateTimeAttribute()
    settings = JSONAttribute(default=dict)
    data_keys = ListAttribute(of=WrappedKey, default=list)
    current_key_version = NumberAttribute(default=1)
    # Changed in the same transaction as every FAQ put or delete, so the 200-entry cap holds
    # under concurrent writers without counting the partition.
    faq_count = NumberAttribute(default=0)
    # Visitor conversations not yet closed: raised in the transaction that opens one (conditioned on
    # the ceiling), lowered in the one that closes it, so the ceiling holds without counting.
    open_visitor_conversations = NumberAttribute(null=True)
    # The identity-verification secret, wrapped by tenant key `version` (tenancy/identity.py).
    identity_secret = WrappedKey(null=True)
    # The UTC day (YYYY-MM-DD) of the tenant's latest complete retention attestation
    # (transcripts/attestations.py): at least one a day, the others only when a run shredded something.
    retention_attested_on = UnicodeAttribute(null=True)
    # The event types some webhook of the tenant subscribes to, rewritten with every webhook change (under
    # webhooks_version): events.publish reads them (cached briefly) instead of the webhooks.
    webhook_events = string_list()
    webhooks_version = NumberAttribute(default=0)



def get_tenant(tenant_id: str) -> TenantModel:
    try:
        return TenantModel.get(tenant_id, consistent_read=True)
    except DoesNotExist:
        raise NotFound("No such tenant.") from None


# Every tenant, for the scheduled jobs that visit each one, through a sharded index (no scan).
DIRECTORY_PREFIX = "tenants"


def directory_shard(tenant_id: str) -> str:
    return shard(DIRECTORY_PREFIX, tenant_id)


def every_tenant(starting_at: str | None = None) -> Iterator[TenantModel]:
    """Each tenant with its id and settings (the index projects nothing else), always in one order:
    by shard, then by id; from the tenant `starting_at` when given (a sweep taking up its pass)."""
    shards = all_shards(DIRECTORY_PREFIX)
    first = shards.index(directory_shard(starting_at)) if starting_at else 0
    for tenant_shard in shards[first:]:
        if starting_at and tenant_shard == directory_shard(starting_at):
            yield from TenantModel.directory_index.query(tenant_shard, TenantModel.tenant_id >= starting_at)
        else:
            yield from TenantModel.directory_index.query(tenant_shard)
