"""OpenAPI 3.1 document generated from the routes' pydantic declarations."""
from __future__ import annotations

import re
from typing import Any

from pydantic import BaseModel
from pydantic.json_schema import JsonSchemaMode, models_json_schema

from .routing import PUBLIC, ROUTES, RouteSpec
from .schemas import ErrorResponse

_REF = "#/components/schemas/{model}"
_STATUS_TEXT = {200: "OK", 201: "Created", 202: "Accepted", 204: "No Content", 302: "A redirect (see Location)",
                400: "Invalid input",
                401: "No or bad credentials", 403: "Not allowed for this role",
                404: "Not found (or another tenant's)", 409: "Conflict", 410: "Gone",
                413: "Body too large", 429: "Rate limited (see Retry-After)"}


def build_document(title: str = "Switchboard", version: str = "1.0.0") -> dict[str, Any]:
    inputs = [(model, _mode(model)) for model in _models()]
    keyed, defs = models_json_schema(inputs, ref_template=_REF)
    refs = {model: keyed[(model, mode)] for model, mode in inputs}
    paths: dict[str, dict[str, Any]] = {}
    for spec in ROUTES:
        paths.setdefault(spec.path, {})[spec.method.lower()] = _operation(spec, refs)
    return {
        "openapi": "3.1.0",
        "info": {"title": title, "version": version,
                 "description": "Switchboard public API. See docs/ for the WebSocket protocol."},
        "paths": paths,
        "components": {
            "schemas": defs.get("$defs", {}),
            "securitySchemes": {"bearer": {
                "type": "http", "scheme": "bearer",
                "description": "An agent session token (POST /v1/auth/login) or a tenant API key."}},
        },
    }


def _mode(model: type[BaseModel]) -> JsonSchemaMode:
    return "validation" if any(model in (s.body, s.query) for s in ROUTES) else "serialization"


def _models() -> list[type[BaseModel]]:
    found: list[type[BaseModel]] = [ErrorResponse]
    for spec in ROUTES:
        for model in (spec.body, spec.response):
            if model is not None and model not in found:
                found.append(model)
    return found


def _operation(spec: RouteSpec, refs: dict[type[BaseModel], dict[str, Any]]) -> dict[str, Any]:
    op: dict[str, Any] = {
        "summary": spec.summary,
        "tags": [spec.tag],
        "operationId": re.sub(r"[^A-Za-z0-9]+", "_", f"{spec.method}_{spec.path}").strip("_").lower(),
        "parameters": _parameters(spec),
        "responses": {},
    }
    if spec.auth != PUBLIC:
        op["security"] = [{"bearer": []}]
        if isinstance(spec.auth, frozenset):
            op["description"] = "Roles: " + ", ".join(sorted(spec.auth))
            op["x-roles"] = sorted(spec.auth)  # the same, for clients and tests that read the document
    if spec.cors:
        op["description"] = "Callable from any web page: CORS preflight answered, Access-Control-Allow-Origin: *."
    if spec.body is not None:
        op["requestBody"] = {"required": True,
                             "content": {"application/json": {"schema": refs[spec.body]}}}
    success: dict[str, Any] = {"description": _STATUS_TEXT.get(spec.status, "OK")}
    if spec.response is not None and spec.status != 204:
        success["content"] = {"application/json": {"schema": refs[spec.response]}}
    op["responses"][str(spec.status)] = success
    for status in spec.errors:
        content: dict[str, Any] = {"application/json": {"schema": refs[ErrorResponse]}}
        if spec.html_errors:
            content["text/html"] = {"schema": {"type": "string"}}
        op["responses"][str(status)] = {"description": _STATUS_TEXT.get(status, "Error"), "content": content}
    return op


def _parameters(spec: RouteSpec) -> list[dict[str, Any]]:
    params = [{"name": name, "in": "path", "required": True, "schema": {"type": "string"}}
              for name in re.findall(r"{(\w+)}", spec.path)]
    if spec.query is not None:
        schema = spec.query.model_json_schema()
        for name, prop in schema.get("properties", {}).items():
            params.append({"name": name, "in": "query", "required": name in schema.get("required", []),
                           "schema": prop})
    return params
