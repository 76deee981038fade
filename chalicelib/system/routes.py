"""GET /health and GET /openapi.json."""
from __future__ import annotations

from typing import TYPE_CHECKING, Any

from botocore.exceptions import BotoCoreError, ClientError
from chalice import Blueprint, Response

from ..lazy import lazy_module, lazy_modules
from ..runtime import runtime
from ..web.routing import PUBLIC, PublicCall, endpoint

if TYPE_CHECKING:
    from ..web import openapi as openapi_document
    from . import schemas as s
else:  # the schemas on a route's first call (chalicelib/web/routing.py), the document builder on its first
    s, = lazy_modules(__package__, "schemas")
    openapi_document = lazy_module("chalicelib.web.openapi")

bp = Blueprint(__name__)


@endpoint(bp, "GET", "/health", summary="Liveness: ok once the stack answers", tag="system",
          auth=PUBLIC)
def health(call: PublicCall[None]) -> Response | s.HealthOut:
    rt = runtime()
    try:
        # The cheapest proof that DynamoDB and our tables answer: describe one table.
        rt.client("dynamodb").describe_table(TableName=rt.config.table("tenants"))
    except (BotoCoreError, ClientError):
        return Response(body={"status": "unavailable"}, status_code=503)
    return s.HealthOut(status="ok")


@endpoint(bp, "GET", "/openapi.json", summary="This API described as OpenAPI 3.1", tag="system",
          auth=PUBLIC)
def openapi(call: PublicCall[None]) -> dict[str, Any]:
    return runtime().once("openapi_document", openapi_document.build_document)
