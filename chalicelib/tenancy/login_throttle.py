"""Failed logins: growing delays per (account, source address), and one audit event per account and window.

Throttling is per account *and* source (an IPv4 address, or an IPv6 /64): SWITCHBOARD_LOGIN_FREE_FAILURES
failures from one source are free, then that source's next attempt on that account must wait 1 s, then
2, 4, ... up to SWITCHBOARD_LOGIN_MAX_DELAY_SECONDS (429 with Retry-After, the password not even
checked). Another source is not slowed at all, so an attacker cannot lock the real user out. There is
deliberately no account-wide ceiling: whatever refuses the account's own owner can be set off by
anyone who knows the email. Guessing from many sources is slowed per source, by the per-source login
limit, and by scrypt's cost, and it is visible: each window's failures become one audit event.

Failures are counted per account and WINDOW_SECONDS window; once a window is over, the
audit-login-failures job writes one `auth.login_failed` event with its count (docs/audit.md).
"""
from __future__ import annotations

import hashlib
import math
from datetime import UTC, datetime, timedelta

from pynamodb.exceptions import DoesNotExist
from pynamodb.expressions.update import Action

from ..access.principals import actor
from ..audit.trail import record_event
from ..clock import iso
from ..errors import RateLimited
from ..runtime import runtime
from ..storage.agents import LoginFailureModel
from ..storage.helpers import all_shards, refusal_means, shard
from ..storage.tenants import TenantModel

WINDOW_SECONDS = 900
# A window is written up a minute after it ends, so a failure a skewed clock counts late still lands in it.
WINDOW_GRACE = timedelta(seconds=60)
# A source's failures on an account are forgotten this long after its last one (or at once on success).
FORGET_SECONDS = 3600
UNKNOWN_ACCOUNT = "unknown-account"


def _delay(failures: int) -> int:
    """Seconds the next attempt waits after this many failures from one source: 0, then 1, 2, 4, ..."""
    config = runtime().config
    over = failures - config.login_free_failures
    return 0 if over < 0 else min(2 ** min(over, 30), config.login_max_delay_seconds)


def _refuse(not_before: float, now: float) -> RateLimited:
    return RateLimited("Too many failed logins from here; wait before trying again.",
                       retry_after=math.ceil(not_before - now))


class Attempt:
    """One login attempt of an account from a source, let through by begin()."""

    def __init__(self, tenant_id: str, email: str, source: str, failures: int = 0) -> None:
        self.tenant_id, self.source, self.failures = tenant_id, source, failures
        digest = hashlib.sha256(f"{tenant_id}#{email}#{source}".encode()).hexdigest()[:32]
        self.key = f"source#{digest}"  # never the email or the address themselves

    def failed(self, agent_id: str | None) -> None:
        """The source's delay grows, and the account's window counts one more failure."""
        now = runtime().clock.now()
        actions: list[Action] = [LoginFailureModel.failures.add(1),
                   LoginFailureModel.expires_at.set(_at(now + FORGET_SECONDS))]
        delay = _delay(self.failures + 1)
        if delay:
            actions.append(LoginFailureModel.not_before.set(now + delay))
        LoginFailureModel(self.key).update(actions=actions)
        _count_in_window(self.tenant_id, agent_id, self.source, now)

    def succeeded(self) -> None:
        if self.failures:
            LoginFailureModel(self.key).delete()


def begin(tenant_id: str, email: str, source: str) -> Attempt:
    """Let an attempt through, or 429 while this source's delay on this account runs. Past the free
    failures an attempt also claims the delay at once, so parallel attempts from one source wait too."""
    now = runtime().clock.now()
    attempt = Attempt(tenant_id, email, source)
    try:
        state = LoginFailureModel.get(attempt.key, consistent_read=True)
    except DoesNotExist:
        return attempt
    if state.expires_at.timestamp() <= now:  # forgotten; TTL has not swept it yet
        LoginFailureModel(attempt.key).delete()
        return attempt
    if state.not_before and state.not_before > now:
        raise _refuse(state.not_before, now)
    attempt.failures = int(state.failures)
    delay = _delay(attempt.failures)
    if delay:
        with refusal_means(_refuse(now + delay, now)):
            LoginFailureModel(attempt.key).update(
                actions=[LoginFailureModel.not_before.set(now + delay)],
                condition=LoginFailureModel.not_before.does_not_exist() | (LoginFailureModel.not_before <= now))
    return attempt


def _count_in_window(tenant_id: str, agent_id: str | None, source: str, now: float) -> None:
    # An unknown tenant id has no chain to write to (and a caller may invent any number of them).
    if agent_id is None and not TenantModel.count(tenant_id, limit=1):
        return
    start = int(now // WINDOW_SECONDS) * WINDOW_SECONDS
    key = f"window#{tenant_id}#{agent_id or UNKNOWN_ACCOUNT}#{start}"
    due = _at(start + WINDOW_SECONDS) + WINDOW_GRACE
    LoginFailureModel(key).update(actions=[
        LoginFailureModel.failures.add(1), LoginFailureModel.tenant_id.set(tenant_id),
        LoginFailureModel.target.set(agent_id or UNKNOWN_ACCOUNT), LoginFailureModel.window_start.set(_at(start)),
        LoginFailureModel.last_source.set(source), LoginFailureModel.due_shard.set(shard("login-failures", key)),
        LoginFailureModel.due_at.set(due), LoginFailureModel.expires_at.set(due + timedelta(days=2))])


def audit_login_failures() -> dict[str, int]:
    """The job: one `auth.login_failed` event for each account's window that is over. The window's
    due marker is taken before the event is written (conditionally: a second run, or a duplicated
    scheduled event, finds it gone) and put back if the write fails, so each window is written once."""
    now = runtime().clock.utcnow()
    summary = {"windows": 0, "failures": 0}
    for due_shard in all_shards("login-failures"):
        for due in LoginFailureModel.due_index.query(due_shard, LoginFailureModel.due_at <= now):
            window = LoginFailureModel(due.key)
            with refusal_means() as taken_already:
                window.update(actions=[LoginFailureModel.due_shard.remove(), LoginFailureModel.due_at.remove()],
                              condition=LoginFailureModel.due_shard.exists())
            if taken_already:
                continue
            try:
                _write_window(window)
            except Exception:
                window.update(actions=[LoginFailureModel.due_shard.set(due_shard),
                                       LoginFailureModel.due_at.set(due.due_at)])
                raise
            summary["windows"] += 1
            summary["failures"] += int(window.failures)
    return summary


def _write_window(window: LoginFailureModel) -> None:
    start = window.window_start
    # The email tried is never recorded (for an unknown account it may be anyone's address).
    record_event(window.tenant_id, actor("anonymous", window.last_source), "auth.login_failed",
                 window.target, {"count": int(window.failures), "from": iso(start),
                                 "to": iso(start + timedelta(seconds=WINDOW_SECONDS)),
                                 "last_source": window.last_source})


def _at(epoch: float) -> datetime:
    return datetime.fromtimestamp(epoch, tz=UTC)
