"""Daily caps on emails: per address (every tenant's together) and per tenant, per UTC day. An agent's
answer in an email conversation (the address wrote to the tenant) counts against the tenant's cap and a
cap of its own per tenant and address instead: a long email exchange never reaches the low per-address
cap that keeps strangers from setting off mail to an address they typed in.

Both counters live in the rate-limits table and are taken in one transaction, each conditioned on
being under its cap: an email either counts against both or, refused, against neither.
"""
from __future__ import annotations

from datetime import UTC, datetime
from typing import Literal

from pynamodb.exceptions import TransactWriteError

from ..runtime import runtime
from ..storage.helpers import cancellation_codes, transaction
from ..storage.limits import RateLimitModel

DAY = 86400
Refusal = Literal["capped_tenant", "capped_address"]


def take_slot(tenant_id: str, digest: str, *, reply: bool = False) -> Refusal | None:
    """Count one email to the address `digest` from the tenant (`reply`: an agent's answer); the cap it
    would pass, if any (then nothing is counted)."""
    rt = runtime()
    day = int(rt.clock.now() // DAY) * DAY
    expires_at = datetime.fromtimestamp(day + DAY + 3600, tz=UTC)
    address: tuple[Refusal, str, int] = (
        ("capped_address", f"email-replies#{tenant_id}#{digest}#{day}", rt.config.email_replies_per_address_per_day)
        if reply else ("capped_address", f"emails-address#{digest}#{day}", rt.config.emails_per_address_per_day))
    counters: list[tuple[Refusal, str, int]] = [
        ("capped_tenant", f"emails-tenant#{tenant_id}#{day}", rt.config.emails_per_tenant_per_day), address]
    try:
        with transaction() as writes:
            for _, bucket, cap in counters:
                writes.update(RateLimitModel(bucket),
                              actions=[RateLimitModel.hits.add(1), RateLimitModel.expires_at.set(expires_at)],
                              condition=RateLimitModel.hits.does_not_exist() | (RateLimitModel.hits < cap))
    except TransactWriteError as err:
        for (refusal, _, _), code in zip(counters, cancellation_codes(err), strict=False):
            if code == "ConditionalCheckFailed":
                return refusal
        raise
    return None
