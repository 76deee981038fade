"""REST routes for the FAQ the bot answers from, and a preview of how it matches."""
from __future__ import annotations

from typing import TYPE_CHECKING

from chalice import Blueprint

from ..access.roles import ADMIN
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
TAG = "faq"


@endpoint(bp, "POST", "/v1/faq", summary="Add an FAQ entry", tag=TAG, auth=ADMIN, status=201, errors=(409,))
def create_faq(call: Call[s.FaqIn]) -> s.FaqOut:
    return service.create_entry(call.principal, call.body)


@endpoint(bp, "GET", "/v1/faq", summary="List FAQ entries", tag=TAG, auth=ADMIN)
def list_faq(call: Call[None, web_schemas.PageQuery]) -> s.FaqList:
    return service.list_entries(call.principal, call.query.cursor)


@endpoint(bp, "GET", "/v1/faq/match", summary="Rank the FAQ against a message, as the bot would",
          tag=TAG, auth=ADMIN)
def match_faq(call: Call[None, s.MatchQuery]) -> s.FaqMatchList:
    return service.preview_match(call.principal, call.query.q)


@endpoint(bp, "PUT", "/v1/faq/{faq_id}", summary="Replace an FAQ entry", tag=TAG, auth=ADMIN, errors=(404,))
def replace_faq(call: Call[s.FaqIn], faq_id: str) -> s.FaqOut:
    return service.replace_entry(call.principal, faq_id, call.body)


@endpoint(bp, "DELETE", "/v1/faq/{faq_id}", summary="Delete an FAQ entry (answers with it)",
          tag=TAG, auth=ADMIN, errors=(404,))
def delete_faq(call: Call[None], faq_id: str) -> s.FaqOut:
    return service.delete_entry(call.principal, faq_id)
