"""GET /health and GET /openapi.json."""
from __future__ import annotations

from typing import Any

from botocore.exceptions import BotoCoreError, ClientError
from chalice import Blueprint, Response

from ..runtime import runtime
from ..web.openapi import build_document
from ..web.routing import PUBLIC, PublicCall, endpoint
from ..web.schemas import Output

bp = Blueprint(__name__)


class HealthOut(Output):
    status: str


@endpoint(bp, "GET", "/health", summary="Liveness: ok once the stack answers", tag="system",
          auth=PUBLIC, response=HealthOut)
def health(call: PublicCall[None]) -> Response | HealthOut:
    rt = runtime()
    try:
        # The cheapest proof that DynamoDB and our tables answer: describe one table.
        rt.client("dynamodb").describe_table(TableName=rt.config.table("tenants"))
    except (BotoCoreError, ClientError):
        return Response(body={"status": "unavailable"}, status_code=503)
    return HealthOut(status="ok")


@endpoint(bp, "GET", "/openapi.json", summary="This API described as OpenAPI 3.1", tag="system",
          auth=PUBLIC)
def openapi(call: PublicCall[None]) -> dict[str, Any]:
    return runtime().once("openapi_document", build_document)
