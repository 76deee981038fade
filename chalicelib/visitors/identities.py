"""Verified visitors: one visitor per verified user id in a tenant, whatever browser they come from.

Identity verification (as Intercom and Chatwoot do it): the tenant's server computes
user_hash = lowercase hex HMAC-SHA256(key = the identity secret's UTF-8 bytes, message = user_id),
and the widget sends user_id and user_hash; a wrong hash, or no secret set, is 401. The secret is
stored wrapped by a tenant data key (rotating it: tenancy/identity.py).

A verified user id, and only that, names the user's one visitor: a VisitorIdentityModel item, keyed
by a digest of the id. It is created in the same transaction as that visitor, conditioned on not
existing, so two first sessions racing make one visitor; erasure deletes it in the transaction that
makes the tombstone, and the user's next session starts a new visitor with no past.
"""
from __future__ import annotations

import hashlib
import hmac
from typing import Any

from pynamodb.exceptions import DoesNotExist, TransactWriteError

from ..access import visitor_limits
from ..errors import Conflict, Unauthorized
from ..storage.helpers import refusal_means, transaction
from ..storage.tenants import TenantModel
from ..storage.visitors import VisitorIdentityModel, VisitorModel
from ..transcripts.keys import Corrupted, key_ring, unwrap
from .service import find_visitor, mark_seen, new_visitor

# Two racing first sessions: the loser reads the winner's link once more.
ATTEMPTS = 3


def identity_secret_place(tenant_id: str, version: int) -> bytes:
    """What the wrapped identity secret is bound to: its tenant and the tenant key version."""
    return f"switchboard.identity-secret.v1|{tenant_id}|{version}".encode()


def verified_user_id(tenant: TenantModel, user_id: str, user_hash: str) -> str:
    """user_id if user_hash is its HMAC under the tenant's identity secret; else 401."""
    refused = Unauthorized("The user's identity could not be verified.", code="identity_not_verified")
    stored = tenant.identity_secret
    if stored is None:
        raise refused
    tenant_key = key_ring().tenant_keys.version(tenant.tenant_id, int(stored.version))
    try:
        secret = unwrap(tenant_key.secret, stored.wrapped, identity_secret_place(tenant.tenant_id, int(stored.version)))
    except Corrupted:
        raise refused from None
    expected = hmac.new(secret, user_id.encode(), hashlib.sha256).hexdigest()
    if not hmac.compare_digest(expected, user_hash.lower()):
        raise refused
    return user_id


def user_digest(user_id: str) -> str:
    return hashlib.sha256(user_id.encode()).hexdigest()


def verified_visitor(tenant_id: str, user_id: str, details: dict[str, str]) -> tuple[VisitorModel, bool]:
    """The user's visitor, marked seen with the details sent, and True; or a new one and False (a new
    visitor counts against the tenant's ceiling of new visitors)."""
    digest = user_digest(user_id)
    for _ in range(ATTEMPTS):
        link = _link(tenant_id, digest)
        if link is not None:
            visitor = find_visitor(tenant_id, link.visitor_id)
            if visitor is not None and mark_seen(visitor, details):
                return visitor, True
            _drop_stale(link)  # its visitor was erased meanwhile: the user starts again
        visitor_limits.admit_new_visitor(tenant_id)
        visitor = new_visitor(tenant_id, details, user_id=user_id)
        try:
            with transaction() as tx:
                tx.save(VisitorIdentityModel(tenant_id, digest, visitor_id=visitor.visitor_id,
                                             created_at=visitor.created_at),
                        condition=VisitorIdentityModel.user_digest.does_not_exist())
                tx.save(visitor, condition=VisitorModel.visitor_id.does_not_exist())
        except TransactWriteError as err:
            if err.cause_response_code != "TransactionCanceledException":
                raise
            continue  # another first session of this user made the link: theirs is the visitor
        return visitor, False
    raise Conflict("This user's session is being started elsewhere; try again.")


def forget(tx: Any, visitor: VisitorModel) -> None:
    """In erasure's transaction: the verified user's link to this visitor, if it has one."""
    if visitor.user_id:
        tx.delete(VisitorIdentityModel(visitor.tenant_id, user_digest(visitor.user_id)),
                  condition=VisitorIdentityModel.user_digest.does_not_exist()
                  | (VisitorIdentityModel.visitor_id == visitor.visitor_id))


def _link(tenant_id: str, digest: str) -> VisitorIdentityModel | None:
    try:
        return VisitorIdentityModel.get(tenant_id, digest, consistent_read=True)
    except DoesNotExist:
        return None


def _drop_stale(link: VisitorIdentityModel) -> None:
    with refusal_means():
        link.delete(condition=VisitorIdentityModel.visitor_id == link.visitor_id)
