"""Failed logins slow down the source they come from (per account; IPv6 by /64), never the real user
elsewhere, and reach the audit trail as one event per account and window with the count."""
from __future__ import annotations

from chalicelib.tenancy.login_throttle import WINDOW_SECONDS
from devstack.harness import PASSWORD, Api, run_job
from tests.helpers import audit_events, from_source, use_limits

ATTACKER, OFFICE = "198.51.100.7", "203.0.113.50"


def attempt(api: Api, tenant: dict, password: str, email: str = "admin@acme.com"):
    return api.call("POST", "/v1/auth/login", {"tenant_id": tenant["tenant_id"], "email": email, "password": password})


def test_an_attacker_hammering_from_one_source_cannot_lock_out_the_real_user(api: Api, tenant: dict, clock):
    statuses = []
    with from_source(ATTACKER):
        for n in range(200):
            response = attempt(api, tenant, f"guess {n}")
            statuses.append(response.status_code)
            if response.status_code == 429:  # the attacker waits exactly as long as told, and goes on
                clock.advance(int(response.headers["Retry-After"]))
    assert set(statuses) == {401, 429} and statuses.count(401) > 10
    with from_source(OFFICE):  # the real user, at once, from their own address
        assert attempt(api, tenant, PASSWORD).status_code == 200
    with from_source("2001:db8:aaaa:1::1"):  # and from anywhere else
        assert attempt(api, tenant, PASSWORD).status_code == 200


def test_delays_grow_from_one_source_and_a_success_resets_them(api: Api, tenant: dict, clock):
    use_limits(login_limit_per_minute=1000)  # the per-source limit over all accounts is not under test
    with from_source(ATTACKER):
        assert [attempt(api, tenant, "wrong").status_code for _ in range(5)] == [401] * 5  # free
        waits = []
        for _ in range(5):
            refused = attempt(api, tenant, "wrong")
            assert refused.status_code == 429 and refused.json_body["error"]["code"] == "rate_limited"
            waits.append(int(refused.headers["Retry-After"]))
            assert attempt(api, tenant, PASSWORD).status_code == 429  # not even the right password is checked
            clock.advance(waits[-1])
            assert attempt(api, tenant, "wrong").status_code == 401
        assert waits == [1, 2, 4, 8, 16]
        clock.advance(32)
        assert attempt(api, tenant, PASSWORD).status_code == 200
        assert [attempt(api, tenant, "wrong").status_code for _ in range(5)] == [401] * 5  # free again


def test_the_delay_stops_growing_at_its_cap_and_is_forgotten_an_hour_after_the_last_failure(
        api: Api, tenant: dict, clock):
    use_limits(login_limit_per_minute=1000)
    waits = []
    with from_source(ATTACKER):
        while len(waits) < 13:
            response = attempt(api, tenant, "wrong")
            if response.status_code == 429:
                waits.append(int(response.headers["Retry-After"]))
                clock.advance(waits[-1])
        assert waits == [1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 900, 900, 900]
        assert attempt(api, tenant, "wrong").status_code == 401
        clock.advance(3601)  # an hour of quiet: the source starts afresh
        assert [attempt(api, tenant, "wrong").status_code for _ in range(5)] == [401] * 5


def test_ipv6_sources_count_by_their_64(api: Api, tenant: dict):
    with from_source("2001:db8:1:2::10"):
        assert [attempt(api, tenant, "wrong").status_code for _ in range(5)] == [401] * 5
    with from_source("2001:db8:1:2:ffff::99"):  # same /64: same source
        assert attempt(api, tenant, PASSWORD).status_code == 429
    with from_source("2001:db8:1:3::10"):  # the next /64: another source
        assert attempt(api, tenant, PASSWORD).status_code == 200


def test_each_account_is_throttled_on_its_own(api: Api, tenant: dict):
    api.add_agent(tenant["admin_token"], "sam@acme.com")
    with from_source(ATTACKER):
        assert [attempt(api, tenant, "wrong").status_code for _ in range(6)] == [401] * 5 + [429]
        assert attempt(api, tenant, PASSWORD, "sam@acme.com").status_code == 200


def test_failed_logins_reach_the_audit_trail_once_per_account_and_window(api: Api, tenant: dict, clock):
    clock.advance(WINDOW_SECONDS - clock.now() % WINDOW_SECONDS + 1)  # the start of a window
    for source in (ATTACKER, OFFICE):
        with from_source(source):
            for _ in range(4):
                assert attempt(api, tenant, "wrong").status_code == 401
    with from_source(ATTACKER):
        for n in range(3):
            assert attempt(api, tenant, PASSWORD, f"nobody{n}@acme.com").status_code == 401
    assert run_job("audit-login-failures") == {"windows": 0, "failures": 0}  # the window is not over
    assert audit_events(tenant["tenant_id"], "auth.login_failed") == []

    clock.advance(WINDOW_SECONDS + 61)  # over, and its minute of grace for late counts
    assert run_job("audit-login-failures") == {"windows": 2, "failures": 11}
    assert run_job("audit-login-failures") == {"windows": 0, "failures": 0}  # each window is written once
    events = {e["target"]: e for e in audit_events(tenant["tenant_id"], "auth.login_failed")}
    admin = events[tenant["admin"]["agent_id"]]
    assert admin["details"]["count"] == 8 and admin["actor"]["kind"] == "anonymous"
    assert admin["details"]["last_source"] == OFFICE and admin["details"]["from"] < admin["details"]["to"]
    assert events["unknown-account"]["details"]["count"] == 3
    assert "nobody" not in str(events)  # the emails tried are never recorded

    with from_source(OFFICE):  # the next window gets its own event
        assert attempt(api, tenant, "wrong").status_code == 401
    clock.advance(WINDOW_SECONDS + 61)
    assert run_job("audit-login-failures") == {"windows": 1, "failures": 1}
    assert len(audit_events(tenant["tenant_id"], "auth.login_failed")) == 3


def test_an_unknown_tenant_grows_no_chain_and_no_window(api: Api, tenant: dict, clock):
    for _ in range(3):
        api.call("POST", "/v1/auth/login", {"tenant_id": "t_nobody", "email": "a@acme.com", "password": "whatever12"})
    clock.advance(2 * WINDOW_SECONDS)
    assert run_job("audit-login-failures") == {"windows": 0, "failures": 0}
