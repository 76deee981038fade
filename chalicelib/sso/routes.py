"""REST routes for single sign-on: the admin's registration and the three steps of signing in."""
from __future__ import annotations

from typing import TYPE_CHECKING

from chalice import Blueprint, Response

from ..access.roles import ADMIN
from ..lazy import lazy_module, lazy_modules
from ..web.routing import PUBLIC, Call, PublicCall, endpoint

if TYPE_CHECKING:
    from ..tenancy import schemas as tenancy_schemas
    from . import flow, registration
    from . import schemas as s
else:  # loaded by the first request that needs them (see chalicelib/lazy.py)
    s, flow, registration = lazy_modules(__package__, "schemas", "flow", "registration")
    tenancy_schemas = lazy_module("chalicelib.tenancy.schemas")

bp = Blueprint(__name__)
TAG = "sso"


def _redirect(to: flow.Redirect) -> Response:
    headers: dict[str, str | list[str]] = {"Location": to.location}
    if to.cookie:
        headers["Set-Cookie"] = to.cookie
    return Response(body="", status_code=302, headers=headers)


@endpoint(bp, "GET", "/v1/sso", summary="The tenant's single sign-on registration (never the client secret)",
          tag=TAG, auth=ADMIN, errors=(404,))
def get_sso(call: Call[None]) -> s.SsoOut:
    return registration.get_sso(call.principal)


@endpoint(bp, "PUT", "/v1/sso", summary="Register or change the tenant's OpenID issuer (its discovery is checked)",
          tag=TAG, auth=ADMIN, errors=(409,))
def put_sso(call: Call[s.SsoIn]) -> s.SsoOut:
    return registration.put_sso(call.principal, call.body)


@endpoint(bp, "DELETE", "/v1/sso", summary="Remove single sign-on (passwords work again for everyone)",
          tag=TAG, auth=ADMIN, status=204, errors=(404,))
def delete_sso(call: Call[None]) -> None:
    registration.delete_sso(call.principal)


@endpoint(bp, "GET", "/v1/auth/sso/start", summary="Begin signing in with the tenant's issuer: a redirect to it "
          "(or to the console with #sso_error=REASON)", tag=TAG, auth=PUBLIC, status=302)
def sso_start(call: PublicCall[None, s.StartQuery]) -> Response:
    return _redirect(flow.start(call.query, call.source_ip))


@endpoint(bp, "GET", "/v1/auth/sso/callback", summary="Where the issuer sends the browser back: a redirect to "
          "the console with #sso=CODE (or #sso_error=REASON)", tag=TAG, auth=PUBLIC, status=302)
def sso_callback(call: PublicCall[None, s.CallbackQuery]) -> Response:
    return _redirect(flow.callback(call.query, call.headers.get("cookie"), call.source_ip))


@endpoint(bp, "POST", "/v1/auth/sso/redeem", summary="Trade the one-time code for a session (as /v1/auth/login)",
          tag=TAG, auth=PUBLIC, errors=(401, 429))
def sso_redeem(call: PublicCall[s.RedeemIn]) -> tenancy_schemas.LoginOut:
    return flow.redeem(call.body, call.source_ip)
