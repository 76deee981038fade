"""REST routes for the tenant's transcript keys (docs/transcripts.md)."""
from __future__ import annotations

from chalice import Blueprint

from ..access.roles import ADMIN, COMPLIANCE
from ..web.routing import Call, endpoint
from . import rotation
from .schemas import KeysOut

bp = Blueprint(__name__)
TAG = "keys"


@endpoint(bp, "GET", "/v1/keys", summary="The tenant key's versions (never key material)", tag=TAG,
          auth=COMPLIANCE, response=KeysOut)
def list_keys(call: Call[None]) -> KeysOut:
    return rotation.list_keys(call.principal)


@endpoint(bp, "POST", "/v1/keys/rotate", summary="Rotate the tenant key: new messages use a new version",
          tag=TAG, auth=ADMIN, response=KeysOut, errors=(409,))
def rotate_key(call: Call[None]) -> KeysOut:
    return rotation.rotate(call.principal)
