"""An admin registers the tenant's OpenID issuer: GET, PUT and DELETE /v1/sso.

PUT fetches and checks the issuer's discovery document before anything is stored. The client secret
is wrapped by the tenant's current key (KMS wraps that key; transcripts/keys.py) and bound to the
tenant, so the item alone opens nothing; it is never returned, logged or audited.
"""
from __future__ import annotations

from ..access.principals import Principal
from ..audit.trail import record_event
from ..clock import iso
from ..errors import Conflict, InvalidInput, NotFound
from ..runtime import runtime
from ..storage.helpers import refusal_means
from ..storage.sso import REGISTRATION, SsoModel, registration
from ..transcripts.keys import key_ring, unwrap, wrap
from . import schemas as s
from .provider import ProviderError, discover

CALLBACK_PATH = "/v1/auth/sso/callback"


def redirect_uri() -> str:
    return runtime().config.public_url + CALLBACK_PATH


def get_sso(principal: Principal) -> s.SsoOut:
    found = registration(principal.tenant_id)
    if found is None:
        raise NotFound("No single sign-on is registered.")
    return _out(found)


def put_sso(principal: Principal, body: s.SsoIn) -> s.SsoOut:
    tenant_id = principal.tenant_id
    before = registration(tenant_id)
    keeps_secret = body.client_secret is None
    if keeps_secret and (before is None or (before.issuer, before.client_id) != (body.issuer, body.client_id)):
        raise InvalidInput("client_secret: required for a new issuer or client id")
    try:
        discover(body.issuer, fresh=True)
    except ProviderError as exc:
        raise InvalidInput(str(exc)) from None
    item = SsoModel(tenant_id, REGISTRATION, issuer=body.issuer, client_id=body.client_id, sso_only=body.sso_only,
                    updated_at=runtime().clock.utcnow())
    if before is not None and keeps_secret:
        item.client_secret_wrapped, item.secret_key_version = before.client_secret_wrapped, before.secret_key_version
    else:
        assert body.client_secret is not None
        key = key_ring().tenant_keys.current(tenant_id)
        item.client_secret_wrapped = wrap(key.secret, body.client_secret.encode(), _place(tenant_id, key.version))
        item.secret_key_version = key.version
    # Two admins saving at once: the second to write finds the registration changed and gets 409, not a silent loss.
    with refusal_means(Conflict("The single sign-on registration changed meanwhile; reload it and try again.")):
        item.save(condition=SsoModel.item.does_not_exist() if before is None
                  else SsoModel.updated_at == before.updated_at)
    record_event(tenant_id, principal.actor, "sso.registered" if before is None else "sso.changed", "sso",
                 {"issuer": body.issuer, "client_id": body.client_id, "sso_only": body.sso_only,
                  "secret_changed": not keeps_secret})
    return _out(item)


def delete_sso(principal: Principal) -> None:
    with refusal_means(NotFound("No single sign-on is registered.")):
        SsoModel(principal.tenant_id, REGISTRATION).delete(condition=SsoModel.item.exists())
    record_event(principal.tenant_id, principal.actor, "sso.removed", "sso", {})


def client_secret(found: SsoModel) -> str:
    tenant_id, version = found.tenant_id, int(found.secret_key_version or 0)
    key = key_ring().tenant_keys.version(tenant_id, version)
    return unwrap(key.secret, found.client_secret_wrapped or b"", _place(tenant_id, version)).decode()


def _place(tenant_id: str, version: int) -> bytes:
    return f"switchboard.sso-client-secret.v1|{tenant_id}|{version}".encode()


def _out(found: SsoModel) -> s.SsoOut:
    assert found.updated_at is not None
    return s.SsoOut(issuer=found.issuer or "", client_id=found.client_id or "", sso_only=bool(found.sso_only),
                    redirect_uri=redirect_uri(), updated_at=iso(found.updated_at))
