"""What the two-factor tests share: enrolling an agent through the API, and codes computed from the
secret the enrolment showed, at the test's clock."""
from __future__ import annotations

from typing import Any

import pyotp

from devstack.harness import PASSWORD, Api


class Enrolled:
    """An agent who turned two-factor on: their secret, recovery codes and the session that enrolled."""

    def __init__(self, api: Api, token: str, clock: Any) -> None:
        self.api, self.token, self.clock = api, token, clock
        started = api.call("POST", "/v1/auth/totp", token=token)
        assert started.status_code == 201, started.body
        self.secret = started.json_body["secret"]
        confirmed = api.call("POST", "/v1/auth/totp/confirm", {"code": self.code()}, token=token)
        assert confirmed.status_code == 200, confirmed.body
        self.recovery_codes: list[str] = confirmed.json_body["recovery_codes"]

    def code(self, steps_later: int = 0) -> str:
        return pyotp.TOTP(self.secret).at(self.clock.now() + 30 * steps_later)

    def next_step(self) -> None:
        """The clock moves on to the next 30 s step (a code is accepted once per step)."""
        self.clock.advance(30)


def login(api: Api, tenant: dict, email: str = "admin@acme.com", password: str = PASSWORD, **extra: Any) -> Any:
    return api.call("POST", "/v1/auth/login", {"tenant_id": tenant["tenant_id"], "email": email,
                                               "password": password, **extra})
