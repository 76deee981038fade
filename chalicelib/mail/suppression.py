"""The suppression list: addresses no email goes to, kept as digests (docs/surveys.md, "Emails")."""
from __future__ import annotations

import hashlib
from typing import Literal

from ..runtime import runtime
from ..storage.helpers import refusal_means
from ..storage.mail import EmailSuppressionModel

# The scope of a bounce or a complaint: the address itself is the trouble, whoever sends to it.
# An unsubscribe is scoped to the tenant whose email it came from.
EVERY_TENANT = "*"
Reason = Literal["unsubscribe", "bounce", "complaint"]


def address_hash(address: str) -> str:
    return hashlib.sha256(address.strip().lower().encode()).hexdigest()


def is_suppressed(tenant_id: str, digest: str) -> bool:
    """One BatchGetItem: the address's entry for every tenant and its entry for this one."""
    found = EmailSuppressionModel.batch_get([(digest, EVERY_TENANT), (digest, tenant_id)], consistent_read=True)
    return any(True for _ in found)


def suppress(digest: str, scope: str, reason: Reason) -> None:
    """Idempotent: a second unsubscribe, bounce or complaint keeps the first one's reason and time."""
    entry = EmailSuppressionModel(digest, scope, reason=reason, suppressed_at=runtime().clock.utcnow())
    with refusal_means():
        entry.save(condition=EmailSuppressionModel.address_hash.does_not_exist())
