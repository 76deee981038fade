"""Reading the audit trail over REST: events by time, alarms, signed digests, the public key."""
from __future__ import annotations

import json
from typing import Any

from pynamodb.expressions.condition import Condition
from pynamodb.expressions.operand import Path

from ..access.principals import Principal
from ..clock import iso
from ..storage.audit import AuditAlarmModel, AuditDigestModel, AuditEventModel
from ..storage.helpers import decode_cursor, encode_cursor
from . import schemas as s
from .exports import seq_range
from .signing import audit_signer

PAGE = 100
# With filters, one request reads at most this many pages of PAGE events (in seq order) looking for
# matches: a page of answers may hold fewer than PAGE events, or none, and still have a next_cursor.
FILTERED_READS = 10
FAR_PAST, FAR_FUTURE = "0000-01-01T00:00:00Z", "9999-12-31T23:59:59Z"


def _filter(query: s.EventsQuery) -> Condition | None:
    """DynamoDB's filter (applied to each page read, server-side); the actor's id is matched in the
    stored actor JSON as a quoted string, then exactly here (_matches)."""
    conditions: list[Condition] = []
    if query.action:
        conditions.append(AuditEventModel.action.startswith(query.action) if query.action.endswith(".")
                          else AuditEventModel.action == query.action)
    if query.target:
        conditions.append(AuditEventModel.target == query.target)
    if query.actor:
        conditions.append(Path("actor").contains(json.dumps(query.actor)))
    condition = None
    for each in conditions:
        condition = each if condition is None else condition & each
    return condition


def _matches(event: dict[str, Any], query: s.EventsQuery) -> bool:
    return not query.actor or event["actor"].get("id") == query.actor


def list_events(principal: Principal, query: s.EventsQuery) -> s.EventList:
    tenant_id = principal.tenant_id
    seqs = seq_range(tenant_id, query.range_from or FAR_PAST, query.range_to or FAR_FUTURE)
    if seqs is None:
        return s.EventList(items=[])
    pages = AuditEventModel.query(tenant_id, AuditEventModel.seq.between(*seqs), filter_condition=_filter(query),
                                  page_size=PAGE, last_evaluated_key=decode_cursor(
                                      query.cursor, {"tenant_id", "seq"}, {"tenant_id": tenant_id})).page_iter
    events: list[dict[str, Any]] = []
    # Page by page until one holds a match (unfiltered: the first page), or FILTERED_READS pages.
    for _ in range(FILTERED_READS if query.filtered() else 1):
        page = next(pages, None)
        if page is None:
            break
        events += [event for item in page["Items"]
                   if _matches(event := AuditEventModel.from_raw_data(item).as_event(), query)]
        if events or pages.last_evaluated_key is None:
            break
    return s.EventList(items=[s.AuditEvent.model_validate(event) for event in events],
                       next_cursor=encode_cursor(pages.last_evaluated_key))


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
