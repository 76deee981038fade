"""One-click unsubscribe (RFC 8058): the link in every email, naming the tenant and the address.

The link's token is signed (audience `unsubscribe`) and names the tenant (`tid`) and the address as
its digest (`sub`), so neither the link nor a log of it holds the address, and the language the email
was written in (`lng`), which its pages speak. Unsubscribing suppresses
the address for that tenant only: a visitor who unsubscribes from one shop still hears from another.
A link is honoured after its `exp` too (stopping emails never harms its holder); it stops working
only when the secret that signed it is retired.
"""
from __future__ import annotations

from dataclasses import dataclass

from pynamodb.exceptions import DoesNotExist

from ..access.tokens import signer
from ..errors import NotFound, Unauthorized
from ..runtime import runtime
from ..storage.tenants import TenantModel
from .suppression import suppress

TOKEN_DAYS = 90


@dataclass(frozen=True)
class Unsubscription:
    tenant_id: str
    tenant_name: str
    address_hash: str
    locale: str | None  # the email's language (None in links from before it was recorded)


def unsubscribe_url(tenant_id: str, address_hash: str, locale: str) -> str:
    token = signer().issue("unsubscribe", tenant_id, address_hash, TOKEN_DAYS * 86400, lng=locale).token
    return f"{runtime().config.public_url}/v1/unsubscribe/{token}"


def read_link(token: str) -> Unsubscription:
    """What a link names; 404 for a forged, garbled or other kind of token, or a tenant that is gone."""
    try:
        claims = signer().verify(token, ("unsubscribe",), allow_expired=True)
    except Unauthorized:
        raise NotFound("No such link.") from None
    try:
        tenant = TenantModel.get(claims["tid"])
    except DoesNotExist:
        raise NotFound("No such link.") from None
    locale = claims.get("lng")
    return Unsubscription(tenant.tenant_id, tenant.name, claims["sub"], locale if isinstance(locale, str) else None)


def unsubscribe(token: str) -> Unsubscription:
    """Idempotent: a second POST (a mail client retrying, a person clicking twice) changes nothing."""
    link = read_link(token)
    suppress(link.address_hash, link.tenant_id, "unsubscribe")
    return link
