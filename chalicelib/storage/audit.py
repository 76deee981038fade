"""The audit trail: events, the chain head, signed digests, alarms and exports (docs/audit.md)."""
from __future__ import annotations

import re
from typing import Any

from pynamodb.attributes import JSONAttribute, NumberAttribute, UnicodeAttribute, UTCDateTimeAttribute
from pynamodb.indexes import GlobalSecondaryIndex, KeysOnlyProjection

from .base import TableModel, table_meta


class AuditTimeIndex(GlobalSecondaryIndex["AuditEventModel"]):
    """Events by time: ts never decreases along a tenant's seq, so a time range is a seq range.
    The sort key "{ts}#{seq:012d}" is unique, so events of the same second keep their order."""
    class Meta:
        index_name = "time-index"
        projection = KeysOnlyProjection()

    tenant_id = UnicodeAttribute(hash_key=True)
    ts_seq = UnicodeAttribute(range_key=True)


class AuditSubjectIndex(GlobalSecondaryIndex["AuditEventModel"]):
    """Events about one visitor or one conversation, in seq order: what a visitor's access export
    holds (chalicelib/visitors/access_exports.py). Sparse: only events whose target is a visitor or a
    conversation carry subject_key, so logins and settings changes cost the index nothing."""
    class Meta:
        index_name = "subject-index"
        projection = KeysOnlyProjection()

    subject_key = UnicodeAttribute(hash_key=True)
    seq = NumberAttribute(range_key=True)


# Ids minted by chalicelib.ids.new_id for visitors and conversations ("v_" or "c_", then 26 characters
# of base32hex): the whole shape, so no other target (a canned response's shortcut, say) can pass for one.
SUBJECT_ID = re.compile(r"[vc]_[0-9a-v]{26}")


def subject_key(tenant_id: str, target: str) -> str:
    return f"{tenant_id}#{target}"


class AuditEventModel(TableModel):
    """One link of a tenant's hash chain, exactly as exported (chalicelib/audit/chain.py)."""
    Meta = table_meta("audit-events")
    tenant_id = UnicodeAttribute(hash_key=True)
    seq = NumberAttribute(range_key=True)
    ts = UnicodeAttribute()  # ISO 8601 UTC, to the second
    # JSON text, not maps: what is hashed comes back byte for byte (no Decimal, no reordering).
    actor = JSONAttribute()
    action = UnicodeAttribute()
    target = UnicodeAttribute()
    details = JSONAttribute()
    prev_hash = UnicodeAttribute()
    hash = UnicodeAttribute()
    ts_seq = UnicodeAttribute()  # not part of the event: the time-index's sort key
    subject_key = UnicodeAttribute(null=True)  # not part of the event: "{tenant_id}#{target}", or absent
    time_index = AuditTimeIndex()
    subject_index = AuditSubjectIndex()

    @classmethod
    def of(cls, tenant_id: str, event: dict[str, Any]) -> AuditEventModel:
        about = SUBJECT_ID.fullmatch(event["target"]) is not None
        return cls(tenant_id, **event, ts_seq=f"{event['ts']}#{event['seq']:012d}",
                   subject_key=subject_key(tenant_id, event["target"]) if about else None)

    def as_event(self) -> dict[str, Any]:
        """The stored event exactly as hashed and exported."""
        return {"seq": int(self.seq), "ts": self.ts, "actor": self.actor, "action": self.action,
                "target": self.target, "details": self.details, "prev_hash": self.prev_hash, "hash": self.hash}


class AuditChainModel(TableModel):
    """The head of a tenant's chain: every append is a transaction conditioned on it."""
    Meta = table_meta("audit-chains")
    tenant_id = UnicodeAttribute(hash_key=True)
    last_seq = NumberAttribute()
    last_hash = UnicodeAttribute()
    last_ts = UnicodeAttribute()


class AuditPendingModel(TableModel):
    """An event waiting to be linked into its tenant's chain (group commit, chalicelib/audit/trail.py).
    Never read as part of the trail: only linked events are in audit-events."""
    Meta = table_meta("audit-pending")
    tenant_id = UnicodeAttribute(hash_key=True)
    pending_id = UnicodeAttribute(range_key=True)  # "{recorded at, microseconds}#{random}": oldest first
    ts = UnicodeAttribute()  # the event's ts as its appender's clock read it (linking never lets it go back)
    actor = JSONAttribute()
    action = UnicodeAttribute()
    target = UnicodeAttribute()
    details = JSONAttribute()


class AuditDigestModel(TableModel):
    """A signed checkpoint written by audit-verify; each chains to the one before."""
    Meta = table_meta("audit-digests")
    tenant_id = UnicodeAttribute(hash_key=True)
    seq = NumberAttribute(range_key=True)  # 1, 2, 3, ... per tenant
    digest = JSONAttribute()
    digest_hash = UnicodeAttribute()  # SHA-256 of canonical(digest): the next digest's prev_digest_hash
    algorithm = UnicodeAttribute()
    key_id = UnicodeAttribute()
    signature = UnicodeAttribute()


class AuditAlarmModel(TableModel):
    """A break audit-verify found, once per broken seq."""
    Meta = table_meta("audit-alarms")
    tenant_id = UnicodeAttribute(hash_key=True)
    broken_seq = NumberAttribute(range_key=True)
    reason = UnicodeAttribute()
    detected_at = UTCDateTimeAttribute()
    checkpoint_seq = NumberAttribute()  # the last event a signed digest vouches for


class AuditExportModel(TableModel):
    """An export worked step by step by the audit-export function: an audit file (kind absent; a
    time range) or a visitor's access bundle (kind "access"; a visitor)."""
    Meta = table_meta("audit-exports")
    tenant_id = UnicodeAttribute(hash_key=True)
    export_id = UnicodeAttribute(range_key=True)
    kind = UnicodeAttribute(null=True)  # absent: an audit file; "access": a visitor's access bundle
    status = UnicodeAttribute()  # pending | ready | failed
    range_from = UnicodeAttribute(null=True)  # audit files only
    range_to = UnicodeAttribute(null=True)
    visitor_id = UnicodeAttribute(null=True)  # access bundles only
    expires_at = UTCDateTimeAttribute(null=True)  # access bundles: S3 drops the object after this
    requested_by = JSONAttribute()
    created_at = UTCDateTimeAttribute()
    finished_at = UTCDateTimeAttribute(null=True)
    s3_key = UnicodeAttribute(null=True)
    sha256 = UnicodeAttribute(null=True)
    event_count = NumberAttribute(null=True)
    size_bytes = NumberAttribute(null=True)
    # Set when the exported events do not form an intact chain (the file still holds them as stored).
    broken_seq = NumberAttribute(null=True)
    error = UnicodeAttribute(null=True)
    error_code = UnicodeAttribute(null=True)
    # While pending: the step the export is at (each step one invocation), the claim on it, and the
    # progress carried between steps (chalicelib/audit/export_file.py: Progress).
    step = NumberAttribute(null=True)
    stepped_at = UTCDateTimeAttribute(null=True)  # when the step before ended
    lease_until = UTCDateTimeAttribute(null=True)
    progress = JSONAttribute(null=True)
