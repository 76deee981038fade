"""REST routes for attachments: start an upload, read its state, download the file (in ranges)."""
from __future__ import annotations

from typing import TYPE_CHECKING

from chalice import Blueprint, Response

from ..lazy import lazy_modules
from ..web.routing import ANY_TOKEN, TOKEN_CORS, Call, endpoint
from . import BINARY_TYPES

if TYPE_CHECKING:
    from . import schemas as s
    from . import service, uploads
else:  # loaded by the first request that needs them (see chalicelib/lazy.py)
    s, service, uploads = lazy_modules(__package__, "schemas", "service", "uploads")

bp = Blueprint(__name__)
TAG = "attachments"


@endpoint(bp, "POST", "/v1/conversations/{conversation_id}/attachments",
          summary="Start an upload: a presigned S3 POST for the file (its visitor, its agent, supervisors, admins)",
          tag=TAG, auth=ANY_TOKEN, status=201, errors=(404, 409, 413, 415, 429), cors=TOKEN_CORS)
def create_upload(call: Call[s.UploadIn], conversation_id: str) -> s.UploadOut:
    body = call.body
    return s.UploadOut.model_validate(uploads.create_upload(call.principal, conversation_id, body.filename,
                                                            body.content_type, body.size))


@endpoint(bp, "GET", "/v1/attachments/{attachment_id}/status",
          summary="An attachment's state and metadata (checks an uploaded file now if the check has not run)",
          tag=TAG, auth=ANY_TOKEN, errors=(404, 410), cors=TOKEN_CORS)
def attachment_status(call: Call[None], attachment_id: str) -> s.AttachmentOut:
    item, info = service.describe(call.principal, attachment_id)
    return s.AttachmentOut(attachment_id=item.attachment_id, conversation_id=item.conversation_id,
                           status="pending" if item.status == "checking" else item.status, filename=info.filename,
                           content_type=info.content_type, size=info.size)


@endpoint(bp, "GET", "/v1/attachments/{attachment_id}",
          summary="Download a file (whoever may read its conversation): at most 4 MiB an answer, so larger "
                  "files are fetched with Range: bytes=first-last (206)", tag=TAG, auth=ANY_TOKEN,
          errors=(404, 409, 410, 416), cors=TOKEN_CORS)
def download(call: Call[None], attachment_id: str) -> Response:
    piece = service.download(call.principal, attachment_id, call.headers.get("range"))
    info = piece.info
    inline = info.content_type.startswith("image/")
    headers: dict[str, str | list[str]] = {
        "Content-Type": served_type(info.content_type),
        "Content-Disposition": content_disposition("inline" if inline else "attachment", info.filename),
        "X-Content-Type-Options": "nosniff",
        "Content-Security-Policy": "default-src 'none'; sandbox",
        "Cache-Control": "private, no-store",
        "Accept-Ranges": "bytes",
    }
    if piece.partial:
        headers["Content-Range"] = f"bytes {piece.first}-{piece.last}/{info.size}"
    return Response(body=piece.data, status_code=206 if piece.partial else 200, headers=headers)


def served_type(content_type: str) -> str:
    """The Content-Type a file is served with: its own, except text and CSV, which go as bytes
    (application/octet-stream; see types.BINARY_TYPES, which app.py registers with API Gateway)."""
    return content_type if content_type in BINARY_TYPES else "application/octet-stream"


def content_disposition(kind: str, filename: str) -> str:
    """RFC 6266: an ASCII fallback name (quotes and backslashes dropped) and the real one, RFC 5987-encoded."""
    from urllib.parse import quote

    fallback = "".join(c if 32 <= ord(c) < 127 and c not in '"\\' else "_" for c in filename)
    return f"{kind}; filename=\"{fallback}\"; filename*=UTF-8''{quote(filename, safe='')}"
