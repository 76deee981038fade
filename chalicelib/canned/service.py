"""Canned responses, keyed by shortcut: unique per tenant by a conditional put."""
from __future__ import annotations

from datetime import datetime

from ..access.principals import Principal
from ..clock import iso
from ..errors import Conflict, NotFound
from ..runtime import runtime
from ..storage.answers import CannedResponseModel
from ..storage.helpers import refusal_means, tenant_page, transaction
from . import schemas as s


def _now() -> datetime:
    return runtime().clock.utcnow()


def canned_out(record: CannedResponseModel) -> s.CannedOut:
    return s.CannedOut(canned_id=record.shortcut, shortcut=record.shortcut, text=record.text,
                       created_at=iso(record.created_at), updated_at=iso(record.updated_at))


def create(principal: Principal, body: s.CannedIn) -> s.CannedOut:
    now = _now()
    record = CannedResponseModel(principal.tenant_id, body.shortcut, text=body.text,
                                 created_at=now, updated_at=now)
    with refusal_means(_shortcut_taken(body.shortcut)):
        record.save(condition=CannedResponseModel.shortcut.does_not_exist())
    return canned_out(record)


def list_page(principal: Principal, cursor: str | None) -> s.CannedList:
    records, next_cursor = tenant_page(CannedResponseModel, principal.tenant_id, cursor)
    return s.CannedList(items=[canned_out(record) for record in records], next_cursor=next_cursor)


def replace(principal: Principal, canned_id: str, body: s.CannedIn) -> s.CannedOut:
    current = _find(principal.tenant_id, canned_id)
    if current is None:
        raise _no_such_response()
    replacement = CannedResponseModel(principal.tenant_id, body.shortcut, text=body.text,
                                      created_at=current.created_at, updated_at=_now())
    if body.shortcut == canned_id:
        with refusal_means(_no_such_response()):
            replacement.save(condition=CannedResponseModel.shortcut.exists())
    else:
        _rename(current, replacement)
    return canned_out(replacement)


def _rename(current: CannedResponseModel, replacement: CannedResponseModel) -> None:
    with refusal_means() as refused, transaction() as tx:
        tx.delete(current, condition=CannedResponseModel.shortcut.exists())
        tx.save(replacement, condition=CannedResponseModel.shortcut.does_not_exist())
    if refused:
        # pynamodb reorders a transaction's items, so ask the table which condition failed.
        if _find(current.tenant_id, replacement.shortcut) is not None:
            raise _shortcut_taken(replacement.shortcut)
        raise _no_such_response()


def delete(principal: Principal, canned_id: str) -> None:
    with refusal_means(_no_such_response()):
        CannedResponseModel(principal.tenant_id, canned_id).delete(
            condition=CannedResponseModel.shortcut.exists())


def _find(tenant_id: str, shortcut: str) -> CannedResponseModel | None:
    try:
        return CannedResponseModel.get(tenant_id, shortcut, consistent_read=True)
    except CannedResponseModel.DoesNotExist:
        return None


def _no_such_response() -> NotFound:
    return NotFound("No such canned response.")


def _shortcut_taken(shortcut: str) -> Conflict:
    return Conflict(f"shortcut: /{shortcut} is already taken.", code="shortcut_taken")
