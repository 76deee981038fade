"""REST routes for canned responses: admins keep them, every staff role reads them."""
from __future__ import annotations

from typing import TYPE_CHECKING

from chalice import Blueprint

from ..access.roles import ADMIN, STAFF
from ..lazy import lazy_module, lazy_modules
from ..web.routing import Call, endpoint

if TYPE_CHECKING:
    from ..web import schemas as web_schemas
    from . import schemas as s
    from . import service
else:  # loaded by the first request that needs them (see chalicelib/lazy.py); the schemas too:
    # the handlers' annotations name the models, read on a route's first call (chalicelib/web/routing.py)
    s, service = lazy_modules(__package__, "schemas", "service")
    web_schemas = lazy_module("chalicelib.web.schemas")

bp = Blueprint(__name__)
TAG = "canned-responses"


@endpoint(bp, "POST", "/v1/canned-responses", summary="Add a canned response", tag=TAG,
          auth=ADMIN, status=201, errors=(409,))
def create_canned(call: Call[s.CannedIn]) -> s.CannedOut:
    return service.create(call.principal, call.body)


@endpoint(bp, "GET", "/v1/canned-responses", summary="List canned responses by shortcut", tag=TAG,
          auth=STAFF)
def list_canned(call: Call[None, web_schemas.PageQuery]) -> s.CannedList:
    return service.list_page(call.principal, call.query.cursor)


@endpoint(bp, "PUT", "/v1/canned-responses/{canned_id}", summary="Replace or rename a canned response",
          tag=TAG, auth=ADMIN, errors=(404, 409))
def replace_canned(call: Call[s.CannedIn], canned_id: str) -> s.CannedOut:
    return service.replace(call.principal, canned_id, call.body)


@endpoint(bp, "DELETE", "/v1/canned-responses/{canned_id}", summary="Delete a canned response",
          tag=TAG, auth=ADMIN, status=204, errors=(404,))
def delete_canned(call: Call[None], canned_id: str) -> None:
    service.delete(call.principal, canned_id)
