"""The right of access: a visitor's data as one signed bundle (docs/audit.md, Right of access).

A request records the export (an item of audit-exports of kind "access") and queues it on the audit
export queue; the audit-export function, the one allowed to sign, builds the zip
(chalicelib/visitors/access_bundle.py) in one step of the audit exports' engine (leases, retries,
duplicates dropped: chalicelib/audit/exports.py). The zip holds message text, so S3 only ever holds
it sealed under a KMS-wrapped data key (chalicelib/transcripts/envelope.py), for 7 days; it is
opened and served by an authenticated route of ours, which audits every download.
"""
from __future__ import annotations

import hashlib
from collections.abc import Iterable
from datetime import timedelta
from typing import Any

from chalice import Response
from pynamodb.exceptions import DoesNotExist

from ..access.principals import Principal
from ..audit import exports
from ..audit.trail import record_event
from ..clock import iso
from ..errors import Conflict, Gone, NotFound, TooLarge
from ..ids import new_id
from ..runtime import runtime
from ..storage.audit import AuditExportModel
from ..storage.tenants import TenantModel
from ..transcripts.envelope import open_object, seal_object
from . import schemas as s
from .access_bundle import TOO_LARGE, BundleRequest, build_bundle
from .service import find_visitor

ACCESS = "access"
BUNDLE_DAYS = 7  # the object's Object Lock retention and the bucket's lifecycle rule for access/ (infra/)


def request_export(principal: Principal, visitor_id: str) -> s.AccessExportAccepted:
    if find_visitor(principal.tenant_id, visitor_id) is None:
        raise NotFound("No such visitor.")
    now = runtime().clock.utcnow()
    export = AuditExportModel(principal.tenant_id, new_id("x"), kind=ACCESS, status="pending", visitor_id=visitor_id,
                              requested_by=principal.actor, created_at=now,
                              expires_at=now + timedelta(days=BUNDLE_DAYS), step=1)
    # The request is recorded before the bundle is built: the bundle holds its own request.
    exports.start(export, principal.actor, "visitor.access_export_requested", visitor_id,
                  {"export_id": export.export_id})
    return s.AccessExportAccepted(export_id=export.export_id)


def _export(principal: Principal, visitor_id: str, export_id: str) -> AuditExportModel:
    """The visitor's access export; another visitor's, another kind or another tenant's is not found."""
    try:
        export = AuditExportModel.get(principal.tenant_id, export_id, consistent_read=True)
    except DoesNotExist:
        raise NotFound("No such export.") from None
    if export.kind != ACCESS or export.visitor_id != visitor_id:
        raise NotFound("No such export.")
    return export


def export_status(principal: Principal, visitor_id: str, export_id: str) -> s.AccessExportStatus:
    export = _export(principal, visitor_id, export_id)
    if export.expires_at is None:
        raise NotFound("No such export.")  # every access export has one
    ready = export.status == "ready"
    return s.AccessExportStatus(
        export_id=export_id, visitor_id=visitor_id, status=export.status, created_at=iso(export.created_at),
        finished_at=iso(export.finished_at) if export.finished_at else None, expires_at=iso(export.expires_at),
        url=f"{runtime().config.public_url}/v1/visitors/{visitor_id}/access-exports/{export_id}/bundle"
        if ready else None,
        sha256=export.sha256 if ready else None, size_bytes=int(export.size_bytes) if ready else None,
        error=export.error, error_code=export.error_code)


def download(principal: Principal, visitor_id: str, export_id: str) -> Response:
    """The zip, opened from its sealed object; every download is an audit event."""
    export = _export(principal, visitor_id, export_id)
    if export.error_code == TOO_LARGE:
        raise TooLarge(export.error or "The bundle is too large to download.", code=TOO_LARGE)
    if export.status != "ready" or export.s3_key is None:
        raise Conflict("The bundle is not ready; GET the export's status until it is.", code="export_not_ready")
    rt = runtime()
    if export.expires_at is None or export.expires_at <= rt.clock.utcnow():
        raise Gone("The bundle has expired and was deleted; request a new export.", code="access_export_expired")
    sealed = rt.client("s3").get_object(Bucket=rt.config.export_bucket, Key=export.s3_key)["Body"].read()
    bundle = open_object(principal.tenant_id, _place(export), sealed)
    if hashlib.sha256(bundle).hexdigest() != export.sha256:
        raise RuntimeError(f"access bundle {export_id} does not match its recorded sha256")
    record_event(principal.tenant_id, principal.actor, "visitor.access_export_downloaded", visitor_id,
                 {"export_id": export_id, "sha256": export.sha256})
    return Response(body=bundle, headers={
        "Content-Type": "application/zip", "Cache-Control": "no-store",
        "Content-Disposition": f'attachment; filename="access-{visitor_id}-{export_id}.zip"'})


# --- The worker -------------------------------------------------------------------------------
def handle_export_messages(bodies: Iterable[str], context: Any = None) -> None:
    """The audit-export function's messages: audit files and access bundles alike (one queue, one
    engine, the one function whose role may sign)."""
    exports.handle_export_messages(bodies, context, {exports.AUDIT: exports.write_audit_file, ACCESS: write_bundle})


def write_bundle(export: AuditExportModel, step: int, context: Any) -> list[Any]:
    """The whole bundle in one step (it is bounded: MAX_BUNDLE_BYTES): built, sealed, stored for
    BUNDLE_DAYS; the actions finishing the export."""
    rt = runtime()
    if export.visitor_id is None or export.expires_at is None:
        raise ValueError(f"export {export.export_id} is not an access export's")
    tenant = TenantModel.get(export.tenant_id)
    bundle = build_bundle(BundleRequest(
        tenant_id=export.tenant_id, tenant_name=tenant.name, visitor_id=export.visitor_id,
        export_id=export.export_id, requested_by=export.requested_by, generated_at=rt.clock.utcnow()))
    key = f"access/{export.tenant_id}/{export.export_id}.zip.sealed"
    # Its own retention (the bucket's default is an audit file's year), so the lifecycle rule can delete it.
    rt.client("s3").put_object(Bucket=rt.config.export_bucket, Key=key, ContentType="application/octet-stream",
                               Body=seal_object(export.tenant_id, _place(export), bundle),
                               ObjectLockMode="COMPLIANCE", ObjectLockRetainUntilDate=export.expires_at)
    return [AuditExportModel.s3_key.set(key), AuditExportModel.sha256.set(hashlib.sha256(bundle).hexdigest()),
            AuditExportModel.size_bytes.set(len(bundle))]


def _place(export: AuditExportModel) -> bytes:
    return f"switchboard.access-bundle.v1|{export.tenant_id}|{export.export_id}".encode()

