"""What every HTTP response gets: the contract's error shape and security headers."""
from __future__ import annotations

from collections.abc import Callable
from typing import Any

from chalice import Response

# Chalice answers some requests before our views run (415, 405, its own 500s) in its own
# {"Code", "Message"} shape; the contract promises {"error": {"code", "message"}}.
_CHALICE_CODES = {
    "UnsupportedMediaType": "unsupported_media_type",
    "MethodNotAllowedError": "method_not_allowed",
    "BadRequest": "bad_request",
    "InternalServerError": "internal_error",
}

SECURITY_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Strict-Transport-Security": "max-age=63072000; includeSubDomains",
    "Cache-Control": "no-store",
}


def contract_responses(event: Any, get_response: Callable[[Any], Response]) -> Response:
    response = get_response(event)
    body = response.body
    if response.status_code >= 400 and isinstance(body, dict) and "Code" in body:
        response.body = {"error": {"code": _CHALICE_CODES.get(body["Code"], "error"),
                                   "message": str(body.get("Message", ""))}}
    for name, value in SECURITY_HEADERS.items():
        response.headers.setdefault(name, value)
    return response
