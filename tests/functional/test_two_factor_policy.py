"""Two-factor as policy: a tenant may require it (staff without it get a session that can only enrol,
over REST and WebSocket alike; API keys are unaffected), an agent may turn theirs off with proof, an
admin may reset another's (ending every session of theirs), wrong codes are throttled like wrong
passwords, and each of these is an audit event."""
from __future__ import annotations

import pytest

from devstack.harness import PASSWORD, Api, Party, connect
from tests.functional.two_factor import Enrolled, login
from tests.helpers import agent_id_of, audit_events, error_of, from_source, use_limits

pytestmark = pytest.mark.frozen_clock
ATTACKER, OFFICE = "198.51.100.7", "203.0.113.50"


def require_two_factor(api: Api, tenant: dict, on: bool = True) -> None:
    response = api.call("PUT", "/v1/settings", {"totp_required": on}, token=tenant["admin_token"])
    assert response.status_code == 200 and response.json_body["totp_required"] is on


def test_staff_without_two_factor_can_only_enrol_until_they_have_it(api: Api, tenant: dict, clock):
    api.add_agent(tenant["admin_token"], "sam@acme.com")
    require_two_factor(api, tenant)
    [event] = audit_events(tenant["tenant_id"], "settings.updated")
    assert event["details"] == {"fields": ["totp_required"]}
    answer = login(api, tenant, "sam@acme.com")
    assert answer.status_code == 200 and answer.json_body["totp_enrolment_required"] is True
    token = answer.json_body["token"]
    me = api.call("GET", "/v1/me", token=token)
    assert me.status_code == 200 and me.json_body["totp_enrolment_required"] is True
    for method, path in [("GET", "/v1/conversations"), ("GET", "/v1/canned-responses"),
                         ("DELETE", "/v1/auth/totp")]:
        refused = api.call(method, path, {} if method == "DELETE" else None, token=token)
        assert refused.status_code == 403 and error_of(refused)["code"] == "totp_enrolment_required", path
    socket = connect("restricted=", token)
    assert socket == {"statusCode": 403, "body": "totp_enrolment_required"}
    assert api.call("POST", "/v1/auth/refresh", token=token).status_code == 200
    enrolled = Enrolled(api, token, clock)  # the same session goes on, now a full one
    assert api.call("GET", "/v1/conversations", token=token).status_code == 200
    assert api.call("GET", "/v1/me", token=token).json_body["totp_enrolment_required"] is False
    Party(token)
    enrolled.next_step()
    full = login(api, tenant, "sam@acme.com", totp_code=enrolled.code())
    assert full.status_code == 200 and full.json_body["totp_enrolment_required"] is False
    [login_event] = [e for e in audit_events(tenant["tenant_id"], "auth.login")
                     if e["details"].get("enrolment_only")]
    assert login_event["target"] == agent_id_of(tenant, "sam@acme.com")


def test_a_restricted_session_can_log_out(api: Api, tenant: dict):
    api.add_agent(tenant["admin_token"], "sam@acme.com")
    require_two_factor(api, tenant)
    token = login(api, tenant, "sam@acme.com").json_body["token"]
    assert api.call("POST", "/v1/auth/logout", token=token).status_code == 204
    assert api.call("GET", "/v1/me", token=token).status_code == 401


def test_api_keys_are_unaffected_by_mandatory_two_factor(api: Api, tenant: dict):
    require_two_factor(api, tenant)
    assert api.call("GET", "/v1/conversations", token=tenant["api_key"]).status_code == 200
    assert api.call("GET", "/v1/settings", token=tenant["api_key"]).status_code == 200
    no_session = api.call("POST", "/v1/auth/totp", token=tenant["api_key"])
    assert no_session.status_code == 403


def test_turning_it_off_takes_proof_and_is_refused_while_the_tenant_requires_it(api: Api, tenant: dict, clock):
    enrolled = Enrolled(api, tenant["admin_token"], clock)
    other_session = login(api, tenant, recovery_code=enrolled.recovery_codes[0]).json_body["token"]
    require_two_factor(api, tenant)
    enrolled.next_step()
    refused = api.call("DELETE", "/v1/auth/totp", {"totp_code": enrolled.code()}, token=enrolled.token)
    assert refused.status_code == 409 and error_of(refused)["code"] == "totp_required_by_tenant"
    require_two_factor(api, tenant, on=False)
    both = api.call("DELETE", "/v1/auth/totp", {"totp_code": enrolled.code(), "password": "x"}, token=enrolled.token)
    assert both.status_code == 400
    wrong = api.call("DELETE", "/v1/auth/totp", {"password": "not the password"}, token=enrolled.token)
    assert wrong.status_code == 400 and error_of(wrong)["code"] == "totp_invalid"
    assert api.call("DELETE", "/v1/auth/totp", {"totp_code": enrolled.code()}, token=enrolled.token).status_code == 204
    assert api.call("GET", "/v1/auth/totp", token=enrolled.token).json_body["status"] == "none"
    assert login(api, tenant).status_code == 200  # the password alone again
    assert api.call("GET", "/v1/me", token=other_session).status_code == 200  # sessions go on
    [event] = audit_events(tenant["tenant_id"], "auth.totp_removed")
    assert event["details"] == {"proof": "totp"}
    gone = api.call("DELETE", "/v1/auth/totp", {"password": "x"}, token=enrolled.token)
    assert gone.status_code == 409 and error_of(gone)["code"] == "totp_not_enrolled"


def test_the_password_turns_it_off_and_forgets_remembered_devices(api: Api, tenant: dict, clock):
    enrolled = Enrolled(api, tenant["admin_token"], clock)
    enrolled.next_step()
    device = login(api, tenant, totp_code=enrolled.code(), remember_device=True).json_body["device_token"]
    assert api.call("DELETE", "/v1/auth/totp", {"password": PASSWORD}, token=enrolled.token).status_code == 204
    [event] = audit_events(tenant["tenant_id"], "auth.totp_removed")
    assert event["details"] == {"proof": "password"}
    again = Enrolled(api, enrolled.token, clock)  # on again: the device of the earlier enrolment is no use
    refused = login(api, tenant, device_token=device)
    assert refused.status_code == 401 and error_of(refused)["code"] == "totp_required" and again.secret


def test_an_admin_reset_ends_the_agents_sessions_and_is_audited(api: Api, tenant: dict, clock):
    api.add_agent(tenant["admin_token"], "sam@acme.com")
    sam_id = agent_id_of(tenant, "sam@acme.com")
    sam = Enrolled(api, api.login(tenant["tenant_id"], "sam@acme.com"), clock)
    listed = api.call("GET", "/v1/two-factor/enrolments", token=tenant["admin_token"]).json_body["items"]
    assert [(i["agent_id"], i["status"], i["recovery_codes_left"]) for i in listed] == [(sam_id, "active", 10)]
    assert api.call("GET", "/v1/two-factor/enrolments", token=sam.token).status_code == 403
    assert api.call("DELETE", f"/v1/agents/{sam_id}/totp", token=sam.token).status_code == 403
    assert api.call("DELETE", f"/v1/agents/{sam_id}/totp", token=tenant["admin_token"]).status_code == 204
    assert api.call("GET", "/v1/me", token=sam.token).status_code == 401  # every session of sam's ended
    assert login(api, tenant, "sam@acme.com").status_code == 200  # the password alone again
    [event] = audit_events(tenant["tenant_id"], "auth.totp_reset")
    assert event["target"] == sam_id and event["details"] == {"status": "active"}
    again = api.call("DELETE", f"/v1/agents/{sam_id}/totp", token=tenant["admin_token"])
    assert again.status_code == 409 and error_of(again)["code"] == "totp_not_enrolled"
    admin_id = agent_id_of(tenant, "admin@acme.com")
    own = api.call("DELETE", f"/v1/agents/{admin_id}/totp", token=tenant["admin_token"])
    assert own.status_code == 409 and error_of(own)["code"] == "self_change"


def test_another_tenants_agent_cannot_be_reset_or_listed(api: Api, tenant: dict, clock):
    other = signed_up_elsewhere(api)
    theirs = Enrolled(api, other["admin_token"], clock)
    their_id = agent_id_of(other, "boss@globex.com")
    missing = api.call("DELETE", f"/v1/agents/{their_id}/totp", token=tenant["admin_token"])
    assert missing.status_code == 404
    assert api.call("GET", "/v1/two-factor/enrolments", token=tenant["admin_token"]).json_body["items"] == []
    theirs.next_step()
    assert login(api, other, "boss@globex.com").status_code == 401  # still enrolled


def signed_up_elsewhere(api: Api) -> dict:
    signed = api.signup("Globex", "boss@globex.com")
    signed["admin_token"] = api.login(signed["tenant_id"], "boss@globex.com")
    return signed


def test_hammering_codes_from_one_source_is_slowed_while_the_real_user_signs_in(api: Api, tenant: dict, clock):
    use_limits(login_limit_per_minute=1000)
    enrolled = Enrolled(api, tenant["admin_token"], clock)
    statuses = []
    with from_source(ATTACKER):  # the password is known; the code is guessed
        for n in range(12):
            statuses.append(login(api, tenant, totp_code=f"{n:06d}").status_code)
    assert statuses[:5] == [401] * 5 and set(statuses[5:]) == {429}  # no waiting: every further guess refused
    with from_source(OFFICE):  # the real user, at once, from their own address
        assert login(api, tenant, recovery_code=enrolled.recovery_codes[0]).status_code == 200
    with from_source(ATTACKER):  # a right code from the attacker's source is not even checked
        assert login(api, tenant, recovery_code=enrolled.recovery_codes[1]).status_code == 429


def test_confirming_with_wrong_codes_is_throttled_too(api: Api, tenant: dict, clock):
    use_limits(login_limit_per_minute=1000)
    api.call("POST", "/v1/auth/totp", token=tenant["admin_token"])
    with from_source(ATTACKER):
        statuses = [api.call("POST", "/v1/auth/totp/confirm", {"code": f"{n:06d}"},
                             token=tenant["admin_token"]).status_code for n in range(7)]
    assert statuses[:5] == [400] * 5 and statuses[5:] == [429, 429]


