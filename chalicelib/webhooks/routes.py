"""REST routes for webhooks: admins make, list, test and delete them and see each one's deliveries."""
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
else:  # loaded by the first request that needs them (see chalicelib/lazy.py)
    s, service = lazy_modules(__package__, "schemas", "service")
    web_schemas = lazy_module("chalicelib.web.schemas")

bp = Blueprint(__name__)
TAG = "webhooks"


@endpoint(bp, "POST", "/v1/webhooks", summary="Add a webhook (its secret is shown this once)", tag=TAG,
          auth=ADMIN, status=201, errors=(409,))
def create_webhook(call: Call[s.WebhookIn]) -> s.WebhookCreated:
    return service.create(call.principal, call.body)


@endpoint(bp, "GET", "/v1/webhooks", summary="List the tenant's webhooks", tag=TAG, auth=ADMIN)
def list_webhooks(call: Call[None, web_schemas.PageQuery]) -> s.WebhookList:
    return service.list_page(call.principal, call.query.cursor)


@endpoint(bp, "DELETE", "/v1/webhooks/{webhook_id}", summary="Delete a webhook", tag=TAG, auth=ADMIN,
          status=204, errors=(404, 409))
def delete_webhook(call: Call[None], webhook_id: str) -> None:
    service.delete(call.principal, webhook_id)


@endpoint(bp, "POST", "/v1/webhooks/{webhook_id}/test", summary="Send the webhook a test event (webhook.test) now",
          tag=TAG, auth=ADMIN, status=202, errors=(404, 429))
def send_test_event(call: Call[None], webhook_id: str) -> s.TestQueued:
    return service.send_test(call.principal, webhook_id)


@endpoint(bp, "GET", "/v1/webhooks/{webhook_id}/deliveries", summary="A webhook's deliveries, newest first",
          tag=TAG, auth=ADMIN, errors=(404,))
def list_deliveries(call: Call[None, web_schemas.PageQuery], webhook_id: str) -> s.DeliveryList:
    return service.deliveries_page(call.principal, webhook_id, call.query.cursor)
