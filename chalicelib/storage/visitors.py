"""Visitors and the verified identities that map a tenant's user ids to them."""
from __future__ import annotations

from pynamodb.attributes import (
    JSONAttribute,
    MapAttribute,
    NumberAttribute,
    UnicodeAttribute,
    UnicodeSetAttribute,
    UTCDateTimeAttribute,
)
from pynamodb.indexes import GlobalSecondaryIndex, KeysOnlyProjection

from .base import TableModel, string_list, table_meta


class VisitorEmailIndex(GlobalSecondaryIndex["VisitorModel"]):
    class Meta:
        index_name = "email-index"
        projection = KeysOnlyProjection()

    tenant_id = UnicodeAttribute(hash_key=True)
    email = UnicodeAttribute(range_key=True)


class VisitorModel(TableModel):
    Meta = table_meta("visitors")
    tenant_id = UnicodeAttribute(hash_key=True)
    visitor_id = UnicodeAttribute(range_key=True)
    name = UnicodeAttribute(null=True)
    email = UnicodeAttribute(null=True)
    locale = UnicodeAttribute(null=True)
    team = UnicodeAttribute(null=True)
    created_at = UTCDateTimeAttribute()
    last_seen_at = UTCDateTimeAttribute()
    # Kept by staff on the visitor's profile (PATCH /v1/visitors/{id}).
    tags = string_list()
    notes = UnicodeAttribute(null=True)
    # An earlier visitor with the same email: an unverified hint for agents (an email proves
    # nothing), never merged, never shown to the visitor, never its history.
    known_as = UnicodeAttribute(null=True)
    # The tenant's own user id, verified by its identity secret (user_hash); one visitor per user_id,
    # held by a VisitorIdentityModel item.
    user_id = UnicodeAttribute(null=True)
    email_index = VisitorEmailIndex()
    # {"<tenant key version>": visitor data key wrapped by that tenant key} (transcripts/keys.py).
    data_keys: MapAttribute[str, bytes] = MapAttribute(default=dict)
    # Set by erasure, which also removes data_keys and every personal field: a tombstone.
    erased_at = UTCDateTimeAttribute(null=True)
    # What the tombstone's write removed, for the receipt: {"key_versions": [...], "identity_link_removed"}
    # (version numbers, never key material); then the signed receipt once the erasure has finished.
    erasure = JSONAttribute(null=True)
    erasure_receipt = JSONAttribute(null=True)
    # Abuse limits: the ids of open WebSocket connections (added at connect, deleted at disconnect),
    # the conversation last opened (a new one only once it is closed), and those opened this hour.
    connection_ids = UnicodeSetAttribute(null=True)
    open_conversation_id = UnicodeAttribute(null=True)
    opened_window = NumberAttribute(null=True)
    opened_in_window = NumberAttribute(null=True)


class VisitorIdentityModel(TableModel):
    """A verified user id's one visitor in a tenant: created with the visitor (conditional), deleted by
    erasure. Keyed by a digest, so the table never holds the tenant's user ids themselves."""
    Meta = table_meta("visitor-identities")
    tenant_id = UnicodeAttribute(hash_key=True)
    user_digest = UnicodeAttribute(range_key=True)
    visitor_id = UnicodeAttribute()
    created_at = UTCDateTimeAttribute()
