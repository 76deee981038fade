"""Two-factor sign-in (TOTP): enrolment changes nothing until a code confirms it; then a login needs a
current code, an unused recovery code or a remembered device; codes are never accepted twice, two
uses of one code or one recovery code at once let exactly one through, and the secret is stored
wrapped, the recovery codes and device tokens only as digests."""
from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor

import pyotp
import pytest

from chalicelib.errors import ApiError
from chalicelib.storage.two_factor import TwoFactorModel, enrolment_item
from chalicelib.tenancy.two_factor import enrolment
from devstack.harness import Api
from tests.functional.two_factor import Enrolled, login
from tests.helpers import agent_id_of, all_items, audit_events, error_of

pytestmark = pytest.mark.frozen_clock


def test_a_pending_enrolment_changes_nothing_until_a_code_confirms_it(api: Api, tenant: dict, clock):
    token = tenant["admin_token"]
    started = api.call("POST", "/v1/auth/totp", token=token)
    assert started.status_code == 201
    body = started.json_body
    assert body["otpauth_uri"].startswith("otpauth://totp/Switchboard:") and body["secret"] in body["otpauth_uri"]
    assert body["qr_svg"].startswith("<svg") and "xmlns" in body["qr_svg"]
    assert api.call("GET", "/v1/auth/totp", token=token).json_body["status"] == "pending"
    assert login(api, tenant).status_code == 200  # no code needed yet
    again = api.call("POST", "/v1/auth/totp", token=token).json_body  # starting again replaces it
    assert again["secret"] != body["secret"]
    stale = pyotp.TOTP(body["secret"]).at(clock.now())
    refused = api.call("POST", "/v1/auth/totp/confirm", {"code": stale}, token=token)
    assert refused.status_code == 400 and error_of(refused)["code"] == "totp_invalid"
    code = pyotp.TOTP(again["secret"]).at(clock.now())
    confirmed = api.call("POST", "/v1/auth/totp/confirm", {"code": code}, token=token)
    assert confirmed.status_code == 200
    codes = confirmed.json_body["recovery_codes"]
    assert len(codes) == 10 == len(set(codes)) and all(len(c) == 19 and c.count("-") == 3 for c in codes)
    status = api.call("GET", "/v1/auth/totp", token=token).json_body
    assert status["status"] == "active" and status["recovery_codes_left"] == 10
    conflict = api.call("POST", "/v1/auth/totp", token=token)
    assert conflict.status_code == 409 and error_of(conflict)["code"] == "totp_already_enrolled"
    required = login(api, tenant)
    assert required.status_code == 401 and error_of(required)["code"] == "totp_required"
    assert error_of(required)["details"] == {"remember_device_days": 30}  # the second step says so
    [event] = audit_events(tenant["tenant_id"], "auth.totp_enrolled")
    assert event["details"] == {"recovery_codes": 10}


def test_two_confirmations_of_one_enrolment_at_once_issue_one_set_of_codes(api: Api, tenant: dict, clock):
    api.call("POST", "/v1/auth/totp", token=tenant["admin_token"])
    agent_id = agent_id_of(tenant, "admin@acme.com")
    first, second = (enrolment.find(tenant["tenant_id"], agent_id) for _ in range(2))
    assert first is not None and second is not None
    step = int(clock.now() // 30)
    codes = enrolment.confirm(first, step)
    with pytest.raises(ApiError) as lost:
        enrolment.confirm(second, step)
    assert lost.value.status == 409 and lost.value.code == "conflict"
    stored = TwoFactorModel.get(tenant["tenant_id"], enrolment_item(agent_id))
    assert stored.status == "active" and enrolment.recovery_codes_left(stored) == len(codes) == 10
    assert login(api, tenant, recovery_code=codes[0]).status_code == 200  # the winner's codes are the ones kept


def test_an_unconfirmed_enrolment_lapses(api: Api, tenant: dict, clock):
    token = tenant["admin_token"]
    secret = api.call("POST", "/v1/auth/totp", token=token).json_body["secret"]
    clock.advance(enrolment.PENDING_SECONDS + 1)
    token = api.login(tenant["tenant_id"], "admin@acme.com")  # the earlier token has expired meanwhile
    late = api.call("POST", "/v1/auth/totp/confirm", {"code": pyotp.TOTP(secret).at(clock.now())}, token=token)
    assert late.status_code == 409 and error_of(late)["code"] == "totp_not_started"
    assert api.call("GET", "/v1/auth/totp", token=token).json_body["status"] == "none"


def test_login_takes_a_current_code_once_with_one_step_of_drift(api: Api, tenant: dict, clock):
    enrolled = Enrolled(api, tenant["admin_token"], clock)
    enrolled.next_step()
    assert login(api, tenant, totp_code=enrolled.code()).status_code == 200
    replayed = login(api, tenant, totp_code=enrolled.code())
    assert replayed.status_code == 401 and error_of(replayed)["code"] == "totp_invalid"
    enrolled.next_step()
    assert login(api, tenant, totp_code=enrolled.code(-1)).status_code == 401  # older than the last used
    assert login(api, tenant, totp_code=enrolled.code(+1)).status_code == 200  # a phone 30 s ahead
    for _ in range(3):  # past the step the last code (from a phone ahead) was accepted at
        enrolled.next_step()
    assert login(api, tenant, totp_code=enrolled.code(-1)).status_code == 200  # a phone 30 s behind
    enrolled.next_step()
    assert login(api, tenant, totp_code=enrolled.code(+2)).status_code == 401  # too far off
    assert login(api, tenant, totp_code="000000" if enrolled.code() != "000000" else "111111").status_code == 401
    wrong_password = login(api, tenant, password="not it at all", totp_code=enrolled.code())
    assert wrong_password.status_code == 401 and error_of(wrong_password)["code"] == "unauthorized"
    assert login(api, tenant, totp_code="12345").status_code == 400  # not six digits: named, not counted


def test_two_logins_with_one_code_at_once_let_exactly_one_in(api: Api, tenant: dict, clock):
    enrolled = Enrolled(api, tenant["admin_token"], clock)
    enrolled.next_step()
    code = enrolled.code()
    with ThreadPoolExecutor(4) as pool:
        statuses = list(pool.map(lambda _: login(api, tenant, totp_code=code).status_code, range(4)))
    assert sorted(statuses) == [200, 401, 401, 401]


def test_a_code_read_by_two_logins_before_either_writes_is_accepted_by_one(api: Api, tenant: dict, clock):
    enrolled = Enrolled(api, tenant["admin_token"], clock)
    enrolled.next_step()
    agent_id = agent_id_of(tenant, "admin@acme.com")
    first, second = (enrolment.active(tenant["tenant_id"], agent_id) for _ in range(2))
    assert first is not None and second is not None
    assert enrolment.accept_code(first, enrolled.code()) is True
    assert enrolment.accept_code(second, enrolled.code()) is False  # its condition refuses it, nothing written
    stored = TwoFactorModel.get(tenant["tenant_id"], enrolment_item(agent_id))
    assert stored.last_step == int(clock.now() // 30)


def test_each_recovery_code_signs_in_once_and_the_count_is_audited(api: Api, tenant: dict, clock):
    enrolled = Enrolled(api, tenant["admin_token"], clock)
    first = enrolled.recovery_codes[0]
    assert login(api, tenant, recovery_code=first.upper().replace("-", " ")).status_code == 200
    used_again = login(api, tenant, recovery_code=first)
    assert used_again.status_code == 401 and error_of(used_again)["code"] == "totp_invalid"
    assert login(api, tenant, recovery_code="aaaa-bbbb-cccc-dddd").status_code == 401
    assert login(api, tenant, recovery_code=enrolled.recovery_codes[1]).status_code == 200
    events = audit_events(tenant["tenant_id"], "auth.recovery_code_used")
    assert [event["details"] for event in events] == [{"remaining": 9}, {"remaining": 8}]
    status = api.call("GET", "/v1/auth/totp", token=enrolled.token).json_body
    assert status["recovery_codes_left"] == 8


def test_new_recovery_codes_take_a_current_code_and_replace_the_old(api: Api, tenant: dict, clock):
    enrolled = Enrolled(api, tenant["admin_token"], clock)
    assert login(api, tenant, recovery_code=enrolled.recovery_codes[0]).status_code == 200
    path = "/v1/auth/totp/recovery-codes"
    wrong = api.call("POST", path, {"totp_code": enrolled.code()}, token=enrolled.token)  # the confirming step: used
    assert wrong.status_code == 400 and error_of(wrong)["code"] == "totp_invalid"
    enrolled.next_step()
    replaced = api.call("POST", path, {"totp_code": enrolled.code()}, token=enrolled.token)
    assert replaced.status_code == 200
    fresh = replaced.json_body["recovery_codes"]
    assert len(fresh) == 10 and not set(fresh) & set(enrolled.recovery_codes)
    assert login(api, tenant, recovery_code=enrolled.recovery_codes[1]).status_code == 401
    assert login(api, tenant, recovery_code=fresh[0]).status_code == 200
    [event] = audit_events(tenant["tenant_id"], "auth.recovery_codes_replaced")
    assert event["details"] == {"recovery_codes": 10}


def test_two_uses_of_one_recovery_code_read_together_spend_it_once(api: Api, tenant: dict, clock):
    enrolled = Enrolled(api, tenant["admin_token"], clock)
    agent_id = agent_id_of(tenant, "admin@acme.com")
    first, second = (enrolment.active(tenant["tenant_id"], agent_id) for _ in range(2))
    assert first is not None and second is not None
    assert enrolment.use_recovery_code(first, enrolled.recovery_codes[3]) == 9
    assert enrolment.use_recovery_code(second, enrolled.recovery_codes[3]) is None
    with ThreadPoolExecutor(4) as pool:
        statuses = list(pool.map(lambda _: login(api, tenant, recovery_code=enrolled.recovery_codes[4]).status_code,
                                 range(4)))
    assert sorted(statuses) == [200, 401, 401, 401]
    assert enrolment.recovery_codes_left(TwoFactorModel.get(tenant["tenant_id"], enrolment_item(agent_id))) == 8


def test_nothing_stored_or_audited_holds_the_secret_or_a_code(api: Api, tenant: dict, clock):
    enrolled = Enrolled(api, tenant["admin_token"], clock)
    enrolled.next_step()
    remembered = login(api, tenant, totp_code=enrolled.code(), remember_device=True).json_body
    login(api, tenant, recovery_code=enrolled.recovery_codes[0])
    stored = json.dumps(all_items(), default=str)
    for secret in [enrolled.secret, *enrolled.recovery_codes, remembered["device_token"]]:
        assert secret not in stored and secret.replace("-", "") not in stored
    assert enrolled.secret.lower() not in stored.lower()


def test_a_remembered_device_skips_the_code_for_its_agent_only_until_it_ends(api: Api, tenant: dict, clock):
    api.add_agent(tenant["admin_token"], "sam@acme.com")
    sam = Enrolled(api, api.login(tenant["tenant_id"], "sam@acme.com"), clock)
    admin = Enrolled(api, tenant["admin_token"], clock)
    sam.next_step()
    first = login(api, tenant, "sam@acme.com", totp_code=sam.code(), remember_device=True).json_body
    device = first["device_token"]
    assert device and first["device_expires_at"]
    assert login(api, tenant, "sam@acme.com", device_token=device).status_code == 200
    assert login(api, tenant, "sam@acme.com", device_token=device, password="wrong password").status_code == 401
    other = login(api, tenant, "admin@acme.com", device_token=device)  # another agent's device token
    assert other.status_code == 401 and error_of(other)["code"] == "totp_required"
    assert login(api, tenant, "sam@acme.com", device_token="made-up").status_code == 401
    assert admin.secret
    clock.advance(30 * 86400 + 1)
    ended = login(api, tenant, "sam@acme.com", device_token=device)
    assert ended.status_code == 401 and error_of(ended)["code"] == "totp_required"


def test_remembered_devices_end_with_a_password_change_and_a_reset(api: Api, tenant: dict, clock):
    api.add_agent(tenant["admin_token"], "sam@acme.com")
    sam = Enrolled(api, api.login(tenant["tenant_id"], "sam@acme.com"), clock)
    sam_id = agent_id_of(tenant, "sam@acme.com")
    sam.next_step()
    device = login(api, tenant, "sam@acme.com", totp_code=sam.code(), remember_device=True).json_body["device_token"]
    changed = api.call("PATCH", f"/v1/agents/{sam_id}", {"password": "a brand new one"}, token=tenant["admin_token"])
    assert changed.status_code == 200
    forgotten = login(api, tenant, "sam@acme.com", password="a brand new one", device_token=device)
    assert error_of(forgotten)["code"] == "totp_required"
    sam.next_step()
    device = login(api, tenant, "sam@acme.com", password="a brand new one", totp_code=sam.code(),
                   remember_device=True).json_body["device_token"]
    assert api.call("DELETE", f"/v1/agents/{sam_id}/totp", token=tenant["admin_token"]).status_code == 204
    again = Enrolled(api, api.login(tenant["tenant_id"], "sam@acme.com", "a brand new one"), clock)
    after_reset = login(api, tenant, "sam@acme.com", password="a brand new one", device_token=device)
    assert error_of(after_reset)["code"] == "totp_required" and again.secret != sam.secret


def test_no_device_is_remembered_where_the_tenant_turned_it_off(api: Api, tenant: dict, clock):
    assert api.call("PUT", "/v1/settings", {"remember_device_days": 0},
                    token=tenant["admin_token"]).status_code == 200
    enrolled = Enrolled(api, tenant["admin_token"], clock)
    enrolled.next_step()
    assert error_of(login(api, tenant))["details"] == {"remember_device_days": 0}  # no box to tick
    answer = login(api, tenant, totp_code=enrolled.code(), remember_device=True).json_body
    assert answer["device_token"] is None
