"""The unsubscribe link of every email (RFC 8058): public, the token is the credential."""
from __future__ import annotations

from typing import TYPE_CHECKING

from chalice import Blueprint, Response

from ..lazy import lazy_modules
from ..web.routing import PUBLIC, PublicCall, endpoint

if TYPE_CHECKING:
    from . import pages
else:  # loaded by the first request that needs them (see chalicelib/lazy.py)
    pages, = lazy_modules(__package__, "pages")

bp = Blueprint(__name__)
TAG = "email"
# What mail clients send for one click (RFC 8058: a form body "List-Unsubscribe=One-Click"), and the
# confirmation page's own form. The body is not read: the token says everything.
FORMS = ("application/x-www-form-urlencoded", "multipart/form-data", "application/json", "text/plain")


@endpoint(bp, "GET", "/v1/unsubscribe/{unsubscribe_token}",
          summary="The unsubscribe link's page (HTML): asks, changes nothing", tag=TAG, auth=PUBLIC,
          errors=(404,), html_errors=True)
def unsubscribe_page(call: PublicCall[None], unsubscribe_token: str) -> Response:
    return pages.confirm_page(unsubscribe_token, call.headers.get("accept-language"))


@endpoint(bp, "POST", "/v1/unsubscribe/{unsubscribe_token}",
          summary="One-click unsubscribe (RFC 8058): no more emails from this tenant to this address "
                  "(idempotent; any body, e.g. List-Unsubscribe=One-Click; answers HTML)",
          tag=TAG, auth=PUBLIC, errors=(404,), html_errors=True, content_types=FORMS)
def unsubscribe(call: PublicCall[None], unsubscribe_token: str) -> Response:
    return pages.unsubscribed_page(unsubscribe_token, call.headers.get("accept-language"))
