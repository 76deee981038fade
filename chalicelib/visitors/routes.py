"""REST routes for visitors: a widget starts their sessions; every staff role reads and annotates their profiles."""
from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

from chalice import Blueprint, Response

from ..access.roles import ADMIN, COMPLIANCE, STAFF
from ..lazy import lazy_modules
from ..web.routing import PUBLIC, Call, PublicCall, endpoint

if TYPE_CHECKING:
    from . import access_exports, erasure, erasure_receipt, service, widget_config, widget_sessions
    from . import schemas as s
else:  # loaded by the first request that needs them (see chalicelib/lazy.py); the schemas too:
    # the handlers' annotations name the models, read on a route's first call (chalicelib/web/routing.py)
    s, access_exports, erasure, erasure_receipt, service, widget_config, widget_sessions = lazy_modules(
        __package__, "schemas", "access_exports", "erasure", "erasure_receipt", "service", "widget_config",
        "widget_sessions")

bp = Blueprint(__name__)
TAG = "visitors"


@endpoint(bp, "POST", "/v1/widget/{widget_key}/sessions", summary="Start a visitor session",
          tag="widget", auth=PUBLIC,
          status=201, errors=(401, 403, 404, 429), cors=True)
def start_widget_session(call: PublicCall[s.WidgetSessionIn], widget_key: str) -> s.WidgetSessionOut:
    return widget_sessions.start_widget_session(widget_key, call.body, call.source_ip, call.headers.get("origin"),
                                                call.headers.get("accept-language"))


@endpoint(bp, "GET", "/v1/widget/{widget_key}/config",
          summary="The widget's style, language and whether the desk is open now (cacheable for a minute)",
          tag="widget", auth=PUBLIC, errors=(404, 429), cors=True)
def get_widget_config(call: PublicCall[None], widget_key: str) -> Annotated[Response, s.WidgetConfig]:
    return widget_config.widget_config(widget_key, call.source_ip)


@endpoint(bp, "GET", "/v1/widget-embed", summary="The widget key and script URL to paste into the tenant's pages",
          tag="widget", auth=ADMIN)
def get_widget_embed(call: Call[None]) -> s.WidgetEmbed:
    return widget_config.widget_embed(call.principal)


@endpoint(bp, "GET", "/v1/visitors/{visitor_id}", summary="A visitor's profile and conversations",
          tag=TAG, auth=STAFF, errors=(404,))
def get_visitor(call: Call[None], visitor_id: str) -> s.VisitorProfile:
    return service.read_profile(call.principal, visitor_id)


@endpoint(bp, "PATCH", "/v1/visitors/{visitor_id}", summary="Change a visitor's tags or notes",
          tag=TAG, auth=STAFF, errors=(404,))
def update_visitor(call: Call[s.VisitorPatch], visitor_id: str) -> s.VisitorProfile:
    return service.update_profile(call.principal, visitor_id, call.body)


@endpoint(bp, "DELETE", "/v1/visitors/{visitor_id}",
          summary="Erase a visitor: shred their keys and personal data (repeatable)", tag=TAG,
          auth=COMPLIANCE, status=202, errors=(404, 409))
def erase_visitor(call: Call[None], visitor_id: str) -> s.ErasureOut:
    return erasure.erase(call.principal, visitor_id)


@endpoint(bp, "GET", "/v1/visitors/{visitor_id}/erasure-receipt",
          summary="The signed receipt of a visitor's finished erasure (the keys and records destroyed)", tag=TAG,
          auth=COMPLIANCE, errors=(404, 409))
def get_erasure_receipt(call: Call[None], visitor_id: str) -> s.ErasureReceipt:
    return erasure_receipt.read_receipt(call.principal, visitor_id)


@endpoint(bp, "POST", "/v1/visitors/{visitor_id}/access-exports",
          summary="Right of access: bundle everything held about the visitor, with a signed manifest", tag=TAG,
          auth=COMPLIANCE, status=202, errors=(404,))
def request_access_export(call: Call[None], visitor_id: str) -> s.AccessExportAccepted:
    return access_exports.request_export(call.principal, visitor_id)


@endpoint(bp, "GET", "/v1/visitors/{visitor_id}/access-exports/{export_id}",
          summary="An access export's status, and its bundle's download route once ready", tag=TAG,
          auth=COMPLIANCE, errors=(404,))
def access_export_status(call: Call[None], visitor_id: str, export_id: str) -> s.AccessExportStatus:
    return access_exports.export_status(call.principal, visitor_id, export_id)


@endpoint(bp, "GET", "/v1/visitors/{visitor_id}/access-exports/{export_id}/bundle",
          summary="Download the access bundle (application/zip; send Accept: application/zip); audited",
          tag=TAG, auth=COMPLIANCE, errors=(404, 409, 410, 413))
def download_access_bundle(call: Call[None], visitor_id: str, export_id: str) -> Response:
    return access_exports.download(call.principal, visitor_id, export_id)
