"""One decorator for every REST route.

It authenticates, enforces roles, parses the body and query with pydantic, turns every
failure into the contract's error shape, and records what it did so /openapi.json is
generated from the same declarations rather than written by hand.
"""
from __future__ import annotations

import functools
import json
import logging
import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Callable, Generic, TypeVar

from chalice import Blueprint, Response
from pydantic import BaseModel, ValidationError

from ..errors import ApiError, InvalidInput, NotFound, TooLarge, validation_message
from ..runtime import runtime

if TYPE_CHECKING:
    from ..tenancy.principals import Principal

log = logging.getLogger("switchboard.web")

PUBLIC = "public"      # no credentials
ANY_TOKEN = "any"      # any valid agent token, API key or visitor token
ADMIN = frozenset({"admin"})
SUPERVISOR_UP = frozenset({"admin", "supervisor"})
STAFF = frozenset({"admin", "supervisor", "agent", "compliance"})
COMPLIANCE = frozenset({"admin", "compliance"})

BodyT = TypeVar("BodyT", bound=BaseModel)


@dataclass(frozen=True)
class RouteSpec:
    method: str
    path: str
    summary: str
    tag: str
    auth: str | frozenset[str]
    body: type[BaseModel] | None
    query: type[BaseModel] | None
    response: type[BaseModel] | None
    status: int
    errors: tuple[int, ...]


ROUTES: list[RouteSpec] = []


@dataclass
class Call(Generic[BodyT]):
    """What a handler gets: validated input and who is calling."""
    body: BodyT
    query: Any
    principal: "Principal | None"
    source_ip: str
    headers: dict[str, str] = field(default_factory=dict)


def endpoint(bp: Blueprint, method: str, path: str, *, summary: str, tag: str,
             auth: str | frozenset[str], body: type[BaseModel] | None = None,
             query: type[BaseModel] | None = None, response: type[BaseModel] | None = None,
             status: int = 200, errors: tuple[int, ...] = ()) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    spec = RouteSpec(method, path, summary, tag, auth, body, query, response, status,
                     _error_statuses(auth, body, query, errors))
    ROUTES.append(spec)

    def decorator(handler: Callable[..., Any]) -> Callable[..., Any]:
        @functools.wraps(handler)
        def view(**path_params: str) -> Response:
            try:
                _check_path_ids(path_params)
                call = _build_call(spec, bp.current_request)
                result = handler(call, **path_params)
            except ApiError as err:
                return error_response(err)
            except Exception:
                log.exception("unhandled error on %s %s", spec.method, spec.path)
                return error_response(ApiError("An internal error occurred.", code="internal_error"), 500)
            return _success(spec, result)

        bp.route(path, methods=[method])(view)
        return view

    return decorator


def error_response(err: ApiError, status: int | None = None) -> Response:
    return Response(body=err.body(), status_code=status or err.status,
                    headers={"Content-Type": "application/json", **err.headers})


def _error_statuses(auth: str | frozenset[str], body: Any, query: Any,
                    extra: tuple[int, ...]) -> tuple[int, ...]:
    statuses = set(extra)
    if body is not None or query is not None:
        statuses.add(400)
    if body is not None:
        statuses.add(413)
    if auth != PUBLIC:
        statuses.add(401)
    if isinstance(auth, frozenset):
        statuses.add(403)
    return tuple(sorted(statuses))


# Ids, and survey tokens (signed JWTs, a few hundred characters); under DynamoDB's 1024-byte sort keys.
_PATH_ID = re.compile(r"^[A-Za-z0-9_.\-]{1,1000}$")


def _check_path_ids(path_params: dict[str, str]) -> None:
    # Nothing we issue looks otherwise; refusing early keeps odd keys away from DynamoDB.
    if not all(_PATH_ID.match(value) for value in path_params.values()):
        raise NotFound("Not found.")


def _build_call(spec: RouteSpec, request: Any) -> Call[Any]:
    headers = {k.lower(): v for k, v in (request.headers or {}).items()}
    principal = None
    if spec.auth != PUBLIC:
        from ..tenancy.principals import authenticate  # deferred: public routes skip auth imports

        principal = authenticate(headers.get("authorization"), spec.auth)
    identity = (request.context or {}).get("identity") or {}
    return Call(
        body=_parse_body(spec.body, request.raw_body),
        query=_parse_query(spec.query, request.query_params),
        principal=principal,
        source_ip=identity.get("sourceIp") or "unknown",
        headers=headers,
    )


def _parse_body(model: type[BaseModel] | None, raw: bytes | None) -> Any:
    if model is None:
        return None
    raw = raw or b""
    if len(raw) > runtime().config.max_body_bytes:
        raise TooLarge(f"body: larger than {runtime().config.max_body_bytes} bytes")
    try:
        data = json.loads(raw or b"null")
    except ValueError:
        raise InvalidInput("body: malformed JSON") from None
    if not isinstance(data, dict):
        raise InvalidInput("body: expected a JSON object")
    return _validate(model, data)


def _parse_query(model: type[BaseModel] | None, params: dict[str, str] | None) -> Any:
    if model is None:
        return None
    # Query strings are text; the model (lax on purpose, see QueryInput) converts them.
    return _validate(model, dict(params or {}))


def _validate(model: type[BaseModel], data: dict[str, Any]) -> Any:
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        message, details = validation_message(exc.errors(include_url=False))
        raise InvalidInput(message, details=details) from None


def _success(spec: RouteSpec, result: Any) -> Response:
    if isinstance(result, Response):
        return result
    if spec.status == 204 or result is None:
        return Response(body="", status_code=spec.status if spec.status != 200 else 204)
    if isinstance(result, BaseModel):
        result = result.model_dump(mode="json", exclude_none=False)
    return Response(body=result, status_code=spec.status, headers={"Content-Type": "application/json"})
