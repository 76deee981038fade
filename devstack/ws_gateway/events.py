"""The API Gateway WebSocket Lambda proxy events the gateway hands to the Chalice handlers.

One event per connect ("$connect"), frame ("$default") and disconnect ("$disconnect"), shaped as
API Gateway shapes them: ids, times, headers, query string and request context.
"""

from __future__ import annotations

import base64
import secrets
import time
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from websockets.http11 import Request

from .registry import Client

CONNECT, DEFAULT, DISCONNECT = "$connect", "$default", "$disconnect"


def api_gateway_id() -> str:
    """An id shaped like API Gateway's connection/request ids: 11 random bytes, base64 ("...=")."""
    return base64.b64encode(secrets.token_bytes(11)).decode()


def _epoch_ms(epoch_seconds: float) -> int:
    return int(epoch_seconds * 1000)


def _request_time(epoch_seconds: float) -> str:
    """API Gateway's requestTime format, e.g. "09/Feb/2024:18:11:43 +0000"."""
    return time.strftime("%d/%b/%Y:%H:%M:%S +0000", time.gmtime(epoch_seconds))


def _group_pairs(pairs: Iterable[tuple[str, str]]) -> tuple[dict[str, str], dict[str, list[str]]]:
    """(single-value, multi-value) maps as in API Gateway events; the single map keeps the last."""
    multi: dict[str, list[str]] = {}
    for name, value in pairs:
        multi.setdefault(name, []).append(value)
    return {name: values[-1] for name, values in multi.items()}, multi


@dataclass(frozen=True)
class EventFactory:
    """Builds API Gateway WebSocket Lambda proxy events."""

    domain_name: str
    stage: str
    api_id: str

    def connect(self, client: Client, request: Request) -> dict[str, Any]:
        headers, multi_value_headers = _group_pairs(request.headers.raw_items())
        query = urlsplit(request.path).query
        parameters, multi_value_parameters = (
            _group_pairs(parse_qsl(query, keep_blank_values=True)) if query else (None, None)
        )
        return {
            "headers": headers,
            "multiValueHeaders": multi_value_headers,
            "queryStringParameters": parameters,
            "multiValueQueryStringParameters": multi_value_parameters,
            "requestContext": self._request_context(client, CONNECT, "CONNECT"),
            "isBase64Encoded": False,
        }

    def message(self, client: Client, frame: str | bytes) -> dict[str, Any]:
        request_context = self._request_context(client, DEFAULT, "MESSAGE")
        request_context["messageId"] = api_gateway_id()
        if isinstance(frame, bytes):
            return {
                "requestContext": request_context,
                "body": base64.b64encode(frame).decode(),
                "isBase64Encoded": True,
            }
        return {"requestContext": request_context, "body": frame, "isBase64Encoded": False}

    def disconnect(self, client: Client, code: int, reason: str) -> dict[str, Any]:
        request_context = self._request_context(client, DISCONNECT, "DISCONNECT")
        request_context.update(disconnectStatusCode=code, disconnectReason=reason)
        return {"requestContext": request_context, "isBase64Encoded": False}

    def _request_context(self, client: Client, route_key: str, event_type: str) -> dict[str, Any]:
        now = time.time()
        return {
            "routeKey": route_key,
            "eventType": event_type,
            "messageDirection": "IN",
            "connectionId": client.connection_id,
            "connectedAt": _epoch_ms(client.connected_at),
            "requestId": api_gateway_id(),
            "extendedRequestId": api_gateway_id(),
            "requestTime": _request_time(now),
            "requestTimeEpoch": _epoch_ms(now),
            "domainName": self.domain_name,
            "stage": self.stage,
            "apiId": self.api_id,
            "identity": {"sourceIp": client.source_ip, "userAgent": client.user_agent},
        }
