"""API keys: created with a 256-bit secret shown once (only its SHA-256 is kept), listed, revoked."""
from __future__ import annotations

import secrets
from datetime import datetime

from pynamodb.exceptions import DoesNotExist

from ..access.principals import Principal, api_key_token, secret_digest
from ..audit.trail import record_event
from ..clock import iso
from ..errors import NotFound
from ..ids import new_id
from ..runtime import runtime
from ..storage.agents import ApiKeyModel
from ..storage.helpers import refusal_means, tenant_page
from . import schemas as s


def new_api_key(tenant_id: str, name: str, role: str, created_by: str | None,
                 now: datetime) -> tuple[ApiKeyModel, str]:
    key_id, secret = new_id("key"), secrets.token_urlsafe(32)  # 256 bits
    record = ApiKeyModel(tenant_id, key_id, name=name, role=role, secret_sha256=secret_digest(secret),
                         created_at=now, created_by=created_by)
    return record, api_key_token(tenant_id, key_id, secret)


def api_key_out(key: ApiKeyModel) -> s.ApiKeyOut:
    return s.ApiKeyOut(key_id=key.key_id, name=key.name, role=key.role, created_at=iso(key.created_at),
                       revoked_at=iso(key.revoked_at) if key.revoked_at else None)


def create_api_key(principal: Principal, body: s.ApiKeyIn) -> s.ApiKeyCreated:
    record, token = new_api_key(principal.tenant_id, body.name, body.role, principal.id, runtime().clock.utcnow())
    record.save(condition=ApiKeyModel.key_id.does_not_exist())
    record_event(principal.tenant_id, principal.actor, "api_key.created", record.key_id, {"role": record.role})
    return s.ApiKeyCreated(**api_key_out(record).model_dump(), api_key=token)


def list_api_keys(principal: Principal, cursor: str | None) -> s.ApiKeyList:
    keys, next_cursor = tenant_page(ApiKeyModel, principal.tenant_id, cursor)
    return s.ApiKeyList(items=[api_key_out(key) for key in keys], next_cursor=next_cursor)


def revoke_api_key(principal: Principal, key_id: str) -> None:
    with refusal_means() as refused:
        ApiKeyModel(principal.tenant_id, key_id).update(
            actions=[ApiKeyModel.revoked_at.set(runtime().clock.utcnow())],
            condition=ApiKeyModel.key_id.exists() & ApiKeyModel.revoked_at.does_not_exist())
    if not refused:
        record_event(principal.tenant_id, principal.actor, "api_key.revoked", key_id)
        return
    # Either it never existed (404) or it is already revoked (revoking is idempotent).
    try:
        ApiKeyModel.get(principal.tenant_id, key_id, consistent_read=True)
    except DoesNotExist:
        raise NotFound("No such API key.") from None
