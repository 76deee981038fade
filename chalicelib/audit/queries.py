"""Reading the audit trail over REST: events by time, alarms, signed digests, the public key."""
from __future__ import annotations

from ..access.principals import Principal
from ..clock import iso
from ..storage.audit import AuditAlarmModel, AuditDigestModel, AuditEventModel
from ..storage.helpers import decode_cursor, encode_cursor
from . import schemas as s
from .exports import seq_range
from .signing import audit_signer

PAGE = 100
FAR_PAST, FAR_FUTURE = "0000-01-01T00:00:00Z", "9999-12-31T23:59:59Z"


def list_events(principal: Principal, query: s.EventsQuery) -> s.EventList:
    tenant_id = principal.tenant_id
    seqs = seq_range(tenant_id, query.range_from or FAR_PAST, query.range_to or FAR_FUTURE)
    if seqs is None:
        return s.EventList(items=[])
    page = AuditEventModel.query(tenant_id, AuditEventModel.seq.between(*seqs), limit=PAGE,
                                 last_evaluated_key=decode_cursor(query.cursor, {"tenant_id", "seq"},
                                                                  {"tenant_id": tenant_id}))
    return s.EventList(items=[s.AuditEvent.model_validate(item.as_event()) for item in page],
                       next_cursor=encode_cursor(page.last_evaluated_key))


def list_alarms(principal: Principal, cursor: str | None) -> s.AlarmList:
    page = AuditAlarmModel.query(principal.tenant_id, scan_index_forward=False, limit=PAGE,
                                 last_evaluated_key=decode_cursor(cursor, {"tenant_id", "broken_seq"},
                                                                  {"tenant_id": principal.tenant_id}))
    items = [s.Alarm(broken_seq=int(a.broken_seq), reason=a.reason, detected_at=iso(a.detected_at),
                     checkpoint_seq=int(a.checkpoint_seq)) for a in page]
    return s.AlarmList(items=items, next_cursor=encode_cursor(page.last_evaluated_key))


def list_digests(principal: Principal, cursor: str | None) -> s.DigestList:
    page = AuditDigestModel.query(principal.tenant_id, scan_index_forward=False, limit=PAGE,
                                  last_evaluated_key=decode_cursor(cursor, {"tenant_id", "seq"},
                                                                   {"tenant_id": principal.tenant_id}))
    items = [s.Digest(seq=int(d.seq), digest=d.digest, digest_hash=d.digest_hash, algorithm=d.algorithm,
                      key_id=d.key_id, signature=d.signature) for d in page]
    return s.DigestList(items=items, next_cursor=encode_cursor(page.last_evaluated_key))


def public_keys() -> s.PublicKeys:
    key = audit_signer().public_key
    return s.PublicKeys(keys=[s.PublicKeyOut(key_id=key.key_id, algorithm=key.algorithm,
                                             public_key_pem=key.public_key_pem)])
