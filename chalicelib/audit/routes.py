"""REST routes of the audit trail (docs/audit.md): compliance users and admins only."""
from __future__ import annotations

from typing import TYPE_CHECKING

from chalice import Blueprint

from ..access.roles import COMPLIANCE
from ..lazy import lazy_module, lazy_modules
from ..web.routing import Call, endpoint

if TYPE_CHECKING:
    from ..web import schemas as web_schemas
    from . import exports, queries
    from . import schemas as s
else:  # loaded by the first request that needs them (see chalicelib/lazy.py); the schemas too:
    # the handlers' annotations name the models, read on a route's first call (chalicelib/web/routing.py)
    s, exports, queries = lazy_modules(__package__, "schemas", "exports", "queries")
    web_schemas = lazy_module("chalicelib.web.schemas")

bp = Blueprint(__name__)
TAG = "audit"


@endpoint(bp, "GET", "/v1/audit/events", summary="The tenant's audit events in seq order, by time range",
          tag=TAG, auth=COMPLIANCE)
def list_events(call: Call[None, s.EventsQuery]) -> s.EventList:
    return queries.list_events(call.principal, call.query)


@endpoint(bp, "POST", "/v1/audit/exports", summary="Export a time range as a signed switchboard.audit.v1 file",
          tag=TAG, auth=COMPLIANCE, status=202)
def request_export(call: Call[s.ExportIn]) -> s.ExportAccepted:
    return exports.request_export(call.principal, call.body)


@endpoint(bp, "GET", "/v1/audit/exports/{export_id}", summary="An export's status and download link",
          tag=TAG, auth=COMPLIANCE, errors=(404,))
def export_status(call: Call[None], export_id: str) -> s.ExportStatus:
    return exports.export_status(call.principal, export_id)


@endpoint(bp, "GET", "/v1/audit/public-keys", summary="The public keys audit digests are signed with",
          tag=TAG, auth=COMPLIANCE)
def public_keys(call: Call[None]) -> s.PublicKeys:
    return queries.public_keys()


@endpoint(bp, "GET", "/v1/audit/alarms", summary="Breaks the audit-verify job found in this tenant's chain",
          tag=TAG, auth=COMPLIANCE)
def list_alarms(call: Call[None, web_schemas.PageQuery]) -> s.AlarmList:
    return queries.list_alarms(call.principal, call.query.cursor)


@endpoint(bp, "GET", "/v1/audit/digests", summary="The signed checkpoints audit-verify wrote, newest first",
          tag=TAG, auth=COMPLIANCE)
def list_digests(call: Call[None, web_schemas.PageQuery]) -> s.DigestList:
    return queries.list_digests(call.principal, call.query.cursor)
