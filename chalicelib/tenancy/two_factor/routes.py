"""REST routes of two-factor sign-in: one's own (any staff session) and an admin's over the tenant."""
from __future__ import annotations

from typing import TYPE_CHECKING

from chalice import Blueprint

from ...access.roles import ADMIN, STAFF
from ...lazy import lazy_module, lazy_modules
from ...web.routing import Call, endpoint

if TYPE_CHECKING:
    from ...web import schemas as web_schemas
    from . import schemas as s
    from . import service
else:  # loaded by the first request that needs them (see chalicelib/lazy.py)
    s, service = lazy_modules(__package__, "schemas", "service")
    web_schemas = lazy_module("chalicelib.web.schemas")

bp = Blueprint(__name__)
TAG = "two-factor"


@endpoint(bp, "GET", "/v1/auth/totp", summary="Your two-factor status", tag=TAG, auth=STAFF,
          during_enrolment=True)
def totp_status(call: Call[None]) -> s.TotpStatusOut:
    return service.status(call.principal)


@endpoint(bp, "POST", "/v1/auth/totp", summary="Start two-factor enrolment (login unchanged until confirmed)",
          tag=TAG, auth=STAFF, status=201, errors=(409,), during_enrolment=True)
def start_totp(call: Call[None]) -> s.TotpEnrolmentOut:
    return service.start(call.principal)


@endpoint(bp, "POST", "/v1/auth/totp/confirm",
          summary="Confirm enrolment with a first code: recovery codes, shown once", tag=TAG, auth=STAFF,
          errors=(409, 429), during_enrolment=True)
def confirm_totp(call: Call[s.TotpConfirmIn]) -> s.RecoveryCodesOut:
    return service.confirm(call.principal, call.body, call.source_ip)


@endpoint(bp, "POST", "/v1/auth/totp/recovery-codes",
          summary="New recovery codes for a current code (shown once; the old ones stop working)", tag=TAG,
          auth=STAFF, errors=(409, 429))
def replace_recovery_codes(call: Call[s.RecoveryCodesIn]) -> s.RecoveryCodesOut:
    return service.replace_recovery_codes(call.principal, call.body, call.source_ip)


@endpoint(bp, "DELETE", "/v1/auth/totp",
          summary="Turn off your two-factor (a code, a recovery code or your password)", tag=TAG, auth=STAFF,
          status=204, errors=(409, 429))
def remove_totp(call: Call[s.TotpRemoveIn]) -> None:
    service.remove(call.principal, call.body, call.source_ip)


@endpoint(bp, "GET", "/v1/two-factor/enrolments", summary="Which agents have two-factor", tag=TAG,
          auth=ADMIN)
def list_enrolments(call: Call[None, web_schemas.PageQuery]) -> s.EnrolmentList:
    return service.list_enrolments(call.principal, call.query.cursor)


@endpoint(bp, "DELETE", "/v1/agents/{agent_id}/totp",
          summary="Reset an agent's two-factor; every session of theirs ends", tag=TAG, auth=ADMIN,
          status=204, errors=(404, 409))
def reset_totp(call: Call[None], agent_id: str) -> None:
    service.reset(call.principal, agent_id)
