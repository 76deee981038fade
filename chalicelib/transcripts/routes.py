"""REST routes for the tenant's transcript keys (docs/transcripts.md)."""
from __future__ import annotations

from typing import TYPE_CHECKING

from chalice import Blueprint

from ..access.roles import ADMIN, COMPLIANCE
from ..lazy import lazy_modules
from ..web.routing import Call, endpoint

if TYPE_CHECKING:
    from . import rotation
    from . import schemas as s
else:  # loaded by the first request that needs them (see chalicelib/lazy.py); the schemas too:
    # the handlers' annotations name the models, read on a route's first call (chalicelib/web/routing.py)
    s, rotation = lazy_modules(__package__, "schemas", "rotation")

bp = Blueprint(__name__)
TAG = "keys"


@endpoint(bp, "GET", "/v1/keys", summary="The tenant key's versions (never key material)", tag=TAG,
          auth=COMPLIANCE)
def list_keys(call: Call[None]) -> s.KeysOut:
    return rotation.list_keys(call.principal)


@endpoint(bp, "POST", "/v1/keys/rotate", summary="Rotate the tenant key: new messages use a new version",
          tag=TAG, auth=ADMIN, errors=(409,))
def rotate_key(call: Call[None]) -> s.KeysOut:
    return rotation.rotate(call.principal)
