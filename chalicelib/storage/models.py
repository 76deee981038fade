"""pynamodb models, one per table of infra/template.yaml.

The template is the source of truth; tests/unit/test_models_match_template.py fails when a
model and the template disagree on a table's keys, indexes or TTL attribute. Every key
starts with tenant_id except where AWS names the thing (connection ids) or the key is a
counter bucket.
"""
from __future__ import annotations

from pynamodb.attributes import (
    BinaryAttribute,
    BooleanAttribute,
    JSONAttribute,
    ListAttribute,
    MapAttribute,
    NumberAttribute,
    TTLAttribute,
    UnicodeAttribute,
    UTCDateTimeAttribute,
)
from pynamodb.indexes import GlobalSecondaryIndex, KeysOnlyProjection
from pynamodb.models import Model

from ..config import get_config

_config = get_config()


def _meta(name: str) -> type:
    class Meta:
        table_name = _config.table(name)
        region = _config.region

    return Meta


class WrappedKey(MapAttribute):
    """A tenant data key as KMS returned it: ciphertext only, never the plaintext."""
    version = NumberAttribute()
    wrapped = BinaryAttribute(legacy_encoding=False)
    created_at = UTCDateTimeAttribute()


class TenantModel(Model):
    Meta = _meta("tenants")
    tenant_id = UnicodeAttribute(hash_key=True)
    name = UnicodeAttribute()
    widget_key = UnicodeAttribute()
    created_at = UTCDateTimeAttribute()
    settings = JSONAttribute(default=dict)
    data_keys = ListAttribute(of=WrappedKey, default=list)
    current_key_version = NumberAttribute(default=1)


class AgentModel(Model):
    Meta = _meta("agents")
    tenant_id = UnicodeAttribute(hash_key=True)
    agent_id = UnicodeAttribute(range_key=True)
    email = UnicodeAttribute()
    name = UnicodeAttribute()
    role = UnicodeAttribute()
    teams = ListAttribute(of=UnicodeAttribute, default=list)
    max_concurrent = NumberAttribute(default=5)
    tier = NumberAttribute(default=1)
    active = BooleanAttribute(default=True)
    # Bumped to end every session of this agent at once (deactivation, password change).
    session_version = NumberAttribute(default=1)
    created_at = UTCDateTimeAttribute()
    updated_at = UTCDateTimeAttribute()


class CredentialModel(Model):
    Meta = _meta("credentials")
    tenant_id = UnicodeAttribute(hash_key=True)
    email = UnicodeAttribute(range_key=True)
    agent_id = UnicodeAttribute()
    password_hash = UnicodeAttribute()


class ApiKeyModel(Model):
    Meta = _meta("api-keys")
    tenant_id = UnicodeAttribute(hash_key=True)
    key_id = UnicodeAttribute(range_key=True)
    name = UnicodeAttribute()
    role = UnicodeAttribute()
    secret_sha256 = UnicodeAttribute()
    created_at = UTCDateTimeAttribute()
    created_by = UnicodeAttribute(null=True)
    revoked_at = UTCDateTimeAttribute(null=True)


class VisitorEmailIndex(GlobalSecondaryIndex):
    class Meta:
        index_name = "email-index"
        projection = KeysOnlyProjection()

    tenant_id = UnicodeAttribute(hash_key=True)
    email = UnicodeAttribute(range_key=True)


class VisitorModel(Model):
    Meta = _meta("visitors")
    tenant_id = UnicodeAttribute(hash_key=True)
    visitor_id = UnicodeAttribute(range_key=True)
    name = UnicodeAttribute(null=True)
    email = UnicodeAttribute(null=True)
    locale = UnicodeAttribute(null=True)
    team = UnicodeAttribute(null=True)
    created_at = UTCDateTimeAttribute()
    last_seen_at = UTCDateTimeAttribute()
    email_index = VisitorEmailIndex()


class ConnectionPrincipalIndex(GlobalSecondaryIndex):
    class Meta:
        index_name = "principal-index"
        projection = KeysOnlyProjection()

    principal = UnicodeAttribute(hash_key=True)
    connection_id = UnicodeAttribute(range_key=True)


class ConnectionModel(Model):
    Meta = _meta("connections")
    connection_id = UnicodeAttribute(hash_key=True)
    # "{tenant_id}#{kind}#{id}": every open connection of one agent or visitor.
    principal = UnicodeAttribute()
    tenant_id = UnicodeAttribute()
    kind = UnicodeAttribute()
    principal_id = UnicodeAttribute()
    role = UnicodeAttribute(null=True)
    connected_at = UTCDateTimeAttribute()
    # API Gateway ends a connection after 2 hours; TTL sweeps records a lost $disconnect left.
    expires_at = TTLAttribute()
    principal_index = ConnectionPrincipalIndex()


class RateLimitModel(Model):
    Meta = _meta("rate-limits")
    bucket = UnicodeAttribute(hash_key=True)
    hits = NumberAttribute(default=0)
    expires_at = TTLAttribute()


ALL_MODELS: tuple[type[Model], ...] = (
    TenantModel, AgentModel, CredentialModel, ApiKeyModel, VisitorModel,
    ConnectionModel, RateLimitModel,
)
