"""Signup, login, roles, agents, API keys and settings through the Chalice handlers on moto."""
from __future__ import annotations

import base64
import json

import boto3
import pytest

from devstack.harness import PASSWORD, Api
from tests.helpers import all_items, error_of, without_rate_limits

# Logins and widget sessions count against per-minute windows: a window must not end mid-test.
pytestmark = pytest.mark.frozen_clock


# --- Signup -----------------------------------------------------------------------------
def test_signup_creates_tenant_admin_keys_and_wrapped_data_key(api: Api):
    signed = api.signup()
    assert signed["tenant_id"].startswith("t_")
    assert signed["admin"]["email"] == "admin@acme.com"
    assert signed["widget_key"].startswith("wk.")

    me = api.call("GET", "/v1/me", token=signed["api_key"])
    assert me.status_code == 200
    assert me.json_body["kind"] == "api_key" and me.json_body["role"] == "admin"
    assert me.json_body["tenant_id"] == signed["tenant_id"]

    items = all_items()
    raw = json.dumps(items, default=repr)
    secret = signed["api_key"].rsplit(".", 1)[1]
    assert secret not in raw, "the API key secret must be stored only as a hash"
    assert PASSWORD not in raw
    [credential] = items["switchboard-test-credentials"]
    assert credential["password_hash"]["S"].startswith("scrypt$")

    # The tenant's data key is wrapped under KMS with the tenant id as encryption context.
    [tenant] = items["switchboard-test-tenants"]
    wrapped = tenant["data_keys"]["L"][0]["M"]["wrapped"]["B"]
    kms = boto3.client("kms")
    plain = kms.decrypt(CiphertextBlob=wrapped, EncryptionContext={"tenant_id": signed["tenant_id"]})
    assert len(plain["Plaintext"]) == 32
    with pytest.raises(kms.exceptions.InvalidCiphertextException):
        kms.decrypt(CiphertextBlob=wrapped, EncryptionContext={"tenant_id": "t_other"})


@pytest.mark.parametrize("raw, field", [
    ("{not json", "body"),
    ("[1, 2]", "body"),
    (json.dumps({"name": "Acme", "admin_email": "a@b.com"}), "admin_password"),
    (json.dumps({"name": 7, "admin_email": "a@b.com", "admin_password": PASSWORD}), "name"),
    (json.dumps({"name": "Acme", "admin_email": "nope", "admin_password": PASSWORD}), "admin_email"),
    (json.dumps({"name": "Acme", "admin_email": "a@b.com", "admin_password": "short"}), "admin_password"),
    (json.dumps({"name": "Acme", "admin_email": "a@b.com", "admin_password": PASSWORD, "plan": "x"}), "plan"),
    (json.dumps({"name": "", "admin_email": "a@b.com", "admin_password": PASSWORD}), "name"),
])
def test_bad_signup_is_400_naming_the_field_and_writes_nothing(api: Api, raw: str, field: str):
    before = without_rate_limits(all_items())
    response = api.call("POST", "/v1/tenants", raw=raw)
    assert response.status_code == 400
    assert error_of(response)["message"].startswith(field)
    assert without_rate_limits(all_items()) == before


def test_oversized_body_is_413_and_writes_nothing(api: Api):
    before = without_rate_limits(all_items())
    response = api.call("POST", "/v1/tenants", {"name": "x" * 70_000, "admin_email": "a@b.com",
                                                "admin_password": PASSWORD})
    assert response.status_code == 413
    assert error_of(response)["code"] == "payload_too_large"
    assert without_rate_limits(all_items()) == before


def test_signup_is_rate_limited_per_source_ip(api: Api):
    for n in range(10):
        api.signup(email=f"admin{n}@acme.com")
    response = api.call("POST", "/v1/tenants", {"name": "Acme", "admin_email": "x@acme.com",
                                                "admin_password": PASSWORD})
    assert response.status_code == 429
    assert int(response.headers["Retry-After"]) >= 1
    assert error_of(response)["code"] == "rate_limited"


# --- Login --------------------------------------------------------------------------------
def test_login_returns_a_token_that_works(api: Api, tenant: dict):
    response = api.call("POST", "/v1/auth/login", {"tenant_id": tenant["tenant_id"],
                                                   "email": "ADMIN@acme.com", "password": PASSWORD})
    assert response.status_code == 200
    body = response.json_body
    assert body["agent"]["role"] == "admin" and body["expires_at"].endswith("Z")
    assert body["ws_url"].startswith("wss://")
    me = api.call("GET", "/v1/me", token=body["token"]).json_body
    assert me["kind"] == "agent" and me["agent"]["agent_id"] == tenant["admin"]["agent_id"]


def test_login_failures_look_identical(api: Api, tenant: dict):
    other = api.signup(name="Other", email="boss@other.com")
    attempts = [
        {"tenant_id": tenant["tenant_id"], "email": "admin@acme.com", "password": "wrong password"},
        {"tenant_id": tenant["tenant_id"], "email": "nobody@acme.com", "password": PASSWORD},
        {"tenant_id": "t_doesnotexist", "email": "admin@acme.com", "password": PASSWORD},
        # Right email and password, but of another tenant.
        {"tenant_id": other["tenant_id"], "email": "admin@acme.com", "password": PASSWORD},
    ]
    bodies = set()
    for attempt in attempts:
        response = api.call("POST", "/v1/auth/login", attempt)
        assert response.status_code == 401
        bodies.add(json.dumps(response.json_body))
    assert len(bodies) == 1


def test_login_is_rate_limited_per_ip(api: Api, tenant: dict):
    statuses = [api.call("POST", "/v1/auth/login", {"tenant_id": tenant["tenant_id"],
                                                    "email": f"u{n}@acme.com", "password": "x"}).status_code
                for n in range(21)]
    assert statuses[:19] == [401] * 19  # the tenant fixture's own login used one
    assert statuses[-1] == 429


# --- Tokens -------------------------------------------------------------------------------
def test_missing_malformed_tampered_and_expired_tokens_are_401(api: Api, tenant: dict, clock):
    token = tenant["admin_token"]
    header, payload, signature = token.split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=="))
    claims["role"] = "admin"
    claims["sub"] = "a_someoneelse"
    forged = ".".join([header, base64.urlsafe_b64encode(json.dumps(claims).encode()).decode().rstrip("="),
                       signature])
    for bad in (None, "garbage", forged, "sbk.t_x.key_y.zzz", tenant["api_key"] + "x"):
        response = api.call("GET", "/v1/me", token=bad)
        assert response.status_code == 401, bad
        assert error_of(response)["code"] == "unauthorized"
    clock.advance(3601)
    assert api.call("GET", "/v1/me", token=token).status_code == 401


def test_refresh_gives_a_fresh_token(api: Api, tenant: dict, clock):
    clock.advance(1800)
    response = api.call("POST", "/v1/auth/refresh", token=tenant["admin_token"])
    assert response.status_code == 200
    clock.advance(1801)  # the old token is now expired, the new one is not
    assert api.call("GET", "/v1/me", token=tenant["admin_token"]).status_code == 401
    assert api.call("GET", "/v1/me", token=response.json_body["token"]).status_code == 200


# --- Roles --------------------------------------------------------------------------------
def test_roles_are_enforced_on_every_admin_route(api: Api, tenant: dict):
    admin = tenant["admin_token"]
    tokens = {}
    for role in ("agent", "supervisor", "compliance"):
        api.add_agent(admin, f"{role}@acme.com", role=role)
        tokens[role] = api.login(tenant["tenant_id"], f"{role}@acme.com")
    visitor = api.call("POST", f"/v1/widget/{tenant['widget_key']}/sessions", {}).json_body["visitor_token"]
    admin_only = [("POST", "/v1/agents", {"email": "n@acme.com", "name": "N", "password": PASSWORD,
                                          "role": "agent"}),
                  ("POST", "/v1/api-keys", {"name": "k", "role": "agent"}),
                  ("GET", "/v1/api-keys", None), ("GET", "/v1/settings", None),
                  ("PUT", "/v1/settings", {"bot_enabled": False})]
    before = without_rate_limits(all_items())
    for method, path, body in admin_only:
        for who in ("agent", "supervisor", "compliance"):
            response = api.call(method, path, body, token=tokens[who])
            assert response.status_code == 403, (method, path, who)
            assert error_of(response)["code"] == "forbidden"
        assert api.call(method, path, body, token=visitor).status_code == 403
    assert without_rate_limits(all_items()) == before
    assert api.call("GET", "/v1/agents", token=tokens["supervisor"]).status_code == 200
    assert api.call("GET", "/v1/agents", token=tokens["agent"]).status_code == 403
    assert api.call("GET", "/v1/me", token=visitor).json_body["kind"] == "visitor"


def test_api_key_acts_with_its_role(api: Api, tenant: dict):
    created = api.call("POST", "/v1/api-keys", {"name": "reporting", "role": "supervisor"},
                       token=tenant["admin_token"])
    assert created.status_code == 201
    key = created.json_body["api_key"]
    assert api.call("GET", "/v1/agents", token=key).status_code == 200
    assert api.call("GET", "/v1/settings", token=key).status_code == 403
    listed = api.call("GET", "/v1/api-keys", token=tenant["admin_token"]).json_body["items"]
    assert {k["name"] for k in listed} == {"Default admin key", "reporting"}
    assert all("api_key" not in k for k in listed)

    assert api.call("DELETE", f"/v1/api-keys/{created.json_body['key_id']}",
                    token=tenant["admin_token"]).status_code == 204
    assert api.call("GET", "/v1/agents", token=key).status_code == 401
    # Revoking again is harmless; an unknown key is 404.
    assert api.call("DELETE", f"/v1/api-keys/{created.json_body['key_id']}",
                    token=tenant["admin_token"]).status_code == 204
    assert api.call("DELETE", "/v1/api-keys/key_nope", token=tenant["admin_token"]).status_code == 404


# --- Agents -------------------------------------------------------------------------------
def test_agent_lifecycle(api: Api, tenant: dict):
    admin = tenant["admin_token"]
    agent = api.add_agent(admin, "sam@acme.com", teams=["billing"], max_concurrent=3, tier=2)
    assert agent["teams"] == ["billing"] and agent["max_concurrent"] == 3 and agent["tier"] == 2
    sam = api.login(tenant["tenant_id"], "sam@acme.com")

    listed = api.call("GET", "/v1/agents", token=admin).json_body
    assert {a["email"] for a in listed["items"]} == {"admin@acme.com", "sam@acme.com"}
    assert listed["next_cursor"] is None

    patched = api.call("PATCH", f"/v1/agents/{agent['agent_id']}",
                       {"name": "Samantha", "email": "samantha@acme.com"}, token=admin)
    assert patched.status_code == 200 and patched.json_body["name"] == "Samantha"
    assert api.call("GET", "/v1/me", token=sam).status_code == 200  # an email change keeps sessions
    assert api.call("POST", "/v1/auth/login", {"tenant_id": tenant["tenant_id"], "email": "sam@acme.com",
                                               "password": PASSWORD}).status_code == 401
    sam = api.login(tenant["tenant_id"], "samantha@acme.com")

    # A new password ends every session.
    assert api.call("PATCH", f"/v1/agents/{agent['agent_id']}", {"password": "a brand new one"},
                    token=admin).status_code == 200
    assert api.call("GET", "/v1/me", token=sam).status_code == 401
    sam = api.login(tenant["tenant_id"], "samantha@acme.com", "a brand new one")

    # Deactivation revokes tokens and logins; history stays.
    assert api.call("DELETE", f"/v1/agents/{agent['agent_id']}", token=admin).status_code == 204
    assert api.call("GET", "/v1/me", token=sam).status_code == 401
    assert api.call("POST", "/v1/auth/login", {"tenant_id": tenant["tenant_id"], "email": "samantha@acme.com",
                                               "password": "a brand new one"}).status_code == 401
    listed = api.call("GET", "/v1/agents", token=admin).json_body["items"]
    assert [a["active"] for a in listed if a["agent_id"] == agent["agent_id"]] == [False]
    reactivated = api.call("PATCH", f"/v1/agents/{agent['agent_id']}", {"active": True}, token=admin)
    assert reactivated.json_body["active"] is True
    api.login(tenant["tenant_id"], "samantha@acme.com", "a brand new one")


def test_duplicate_email_is_409_and_writes_nothing(api: Api, tenant: dict):
    api.add_agent(tenant["admin_token"], "sam@acme.com")
    other = api.add_agent(tenant["admin_token"], "kim@acme.com")
    before = without_rate_limits(all_items())
    response = api.call("POST", "/v1/agents", {"email": "SAM@acme.com", "name": "Sam 2", "password": PASSWORD,
                                               "role": "agent"}, token=tenant["admin_token"])
    assert response.status_code == 409 and error_of(response)["code"] == "email_taken"
    response = api.call("PATCH", f"/v1/agents/{other['agent_id']}", {"email": "sam@acme.com"},
                        token=tenant["admin_token"])
    assert response.status_code == 409
    assert without_rate_limits(all_items()) == before


def test_admin_cannot_lock_themselves_out(api: Api, tenant: dict):
    me = tenant["admin"]["agent_id"]
    assert api.call("DELETE", f"/v1/agents/{me}", token=tenant["admin_token"]).status_code == 409
    assert api.call("PATCH", f"/v1/agents/{me}", {"role": "agent"}, token=tenant["admin_token"]).status_code == 409


@pytest.mark.parametrize("body, field", [
    ({"email": "a@acme.com", "name": "A", "password": PASSWORD, "role": "owner"}, "role"),
    ({"email": "a@acme.com", "name": "A", "password": PASSWORD, "role": "agent", "max_concurrent": 21},
     "max_concurrent"),
    ({"email": "a@acme.com", "name": "A", "password": PASSWORD, "role": "agent", "max_concurrent": "3"},
     "max_concurrent"),
    ({"email": "a@acme.com", "name": "A", "password": PASSWORD, "role": "agent", "tier": 0}, "tier"),
    ({"email": "a@acme.com", "name": "A", "password": PASSWORD, "role": "agent", "teams": "sales"}, "teams"),
])
def test_bad_agent_input_is_400_and_writes_nothing(api: Api, tenant: dict, body: dict, field: str):
    before = without_rate_limits(all_items())
    response = api.call("POST", "/v1/agents", body, token=tenant["admin_token"])
    assert response.status_code == 400
    assert error_of(response)["message"].startswith(field)
    assert without_rate_limits(all_items()) == before


def test_another_tenants_objects_are_404(api: Api, tenant: dict):
    other = api.signup(name="Other", email="boss@other.com")
    other_token = api.login(other["tenant_id"], "boss@other.com")
    victim = api.add_agent(tenant["admin_token"], "sam@acme.com")
    key = api.call("POST", "/v1/api-keys", {"name": "k", "role": "agent"}, token=tenant["admin_token"]).json_body
    before = without_rate_limits(all_items())
    for method, path, body in [("PATCH", f"/v1/agents/{victim['agent_id']}", {"name": "pwned"}),
                               ("DELETE", f"/v1/agents/{victim['agent_id']}", None),
                               ("DELETE", f"/v1/api-keys/{key['key_id']}", None)]:
        response = api.call(method, path, body, token=other_token)
        assert response.status_code == 404, (method, path)
        assert error_of(response)["code"] == "not_found"
    assert without_rate_limits(all_items()) == before
    listed = api.call("GET", "/v1/agents", token=other_token).json_body["items"]
    assert [a["email"] for a in listed] == ["boss@other.com"]


def test_a_cursor_cannot_reach_another_tenant(api: Api, tenant: dict):
    forged = base64.urlsafe_b64encode(json.dumps(
        {"tenant_id": {"S": "t_other"}, "agent_id": {"S": "a_x"}}).encode()).decode()
    response = api.call("GET", f"/v1/agents?cursor={forged}", token=tenant["admin_token"])
    assert response.status_code == 400 and error_of(response)["message"].startswith("cursor")
    assert api.call("GET", "/v1/agents?cursor=%%%", token=tenant["admin_token"]).status_code == 400
    assert api.call("GET", "/v1/agents?page=2", token=tenant["admin_token"]).status_code == 400


# --- Settings -----------------------------------------------------------------------------
def test_settings_defaults_and_partial_updates(api: Api, tenant: dict):
    admin = tenant["admin_token"]
    settings = api.call("GET", "/v1/settings", token=admin).json_body
    assert settings["timezone"] == "UTC" and settings["business_hours"] is None
    assert settings["first_response_timeout_seconds"] == 120 and settings["allowed_origins"] == []
    assert settings["default_locale"] == "en"
    chinese = api.call("PUT", "/v1/settings", {"default_locale": "zh-CN"}, token=admin).json_body
    assert chinese["default_locale"] == "zh-CN"

    hours = {"mon": [["09:00", "17:30"]], "sun": []}
    updated = api.call("PUT", "/v1/settings", {"timezone": "Europe/Paris", "business_hours": hours},
                       token=admin).json_body
    assert updated["timezone"] == "Europe/Paris" and updated["business_hours"] == hours
    assert updated["bot_enabled"] is True  # untouched fields keep their values
    cleared = api.call("PUT", "/v1/settings", {"business_hours": None}, token=admin).json_body
    assert cleared["business_hours"] is None and cleared["timezone"] == "Europe/Paris"


@pytest.mark.parametrize("patch, field", [
    ({"timezone": "Mars/Olympus"}, "timezone"),
    ({"first_response_timeout_seconds": 4}, "first_response_timeout_seconds"),
    ({"survey_delay_seconds": -1}, "survey_delay_seconds"),
    ({"retention_days": 0}, "retention_days"),
    ({"business_hours": {"mon": [["17:00", "09:00"]]}}, "business_hours"),
    ({"business_hours": {"funday": []}}, "business_hours"),
    ({"allowed_origins": ["https://shop.test/path"]}, "allowed_origins"),
    ({"bot_enabled": None}, "bot_enabled"),
    ({"bot_enabled": "yes"}, "bot_enabled"),
    ({"colour": "blue"}, "colour"),
    ({"default_locale": "fr"}, "default_locale"),
])
def test_bad_settings_are_400_and_change_nothing(api: Api, tenant: dict, patch: dict, field: str):
    before = without_rate_limits(all_items())
    response = api.call("PUT", "/v1/settings", patch, token=tenant["admin_token"])
    assert response.status_code == 400
    assert field in error_of(response)["message"]
    assert without_rate_limits(all_items()) == before


# --- Widget sessions ----------------------------------------------------------------------
def test_widget_session_issues_a_visitor_token(api: Api, tenant: dict):
    response = api.call("POST", f"/v1/widget/{tenant['widget_key']}/sessions",
                        {"name": "Vera", "email": "Vera@Example.com", "locale": "en-GB"})
    assert response.status_code == 201
    body = response.json_body
    assert body["visitor_id"].startswith("v_") and body["ws_url"].startswith("wss://")
    me = api.call("GET", "/v1/me", token=body["visitor_token"]).json_body
    assert me == {"kind": "visitor", "tenant_id": tenant["tenant_id"], "role": None, "agent": None,
                  "key_id": None, "visitor_id": body["visitor_id"], "totp_enrolment_required": False}
    [visitor] = all_items()["switchboard-test-visitors"]
    assert visitor["email"]["S"] == "vera@example.com"


def test_unknown_widget_key_is_404_and_writes_nothing(api: Api, tenant: dict):
    before = without_rate_limits(all_items())
    forged = tenant["widget_key"][:-2] + "zz"
    for key in (forged, "wk.t_nope.abc", "nonsense"):
        response = api.call("POST", f"/v1/widget/{key}/sessions", {})
        assert response.status_code == 404, key
    assert without_rate_limits(all_items()) == before


# --- HTTP edges ---------------------------------------------------------------------------
def test_chalice_level_errors_use_the_contract_shape(api: Api):
    response = api.call("POST", "/v1/tenants", raw="name=x", headers={"Content-Type": "text/plain"})
    assert response.status_code == 415
    assert error_of(response)["code"] == "unsupported_media_type"
    response = api.call("DELETE", "/v1/tenants")
    assert response.status_code == 405
    assert error_of(response)["code"] == "method_not_allowed"
    assert response.headers["X-Content-Type-Options"] == "nosniff"


def test_health(api: Api):
    response = api.call("GET", "/health")
    assert response.status_code == 200 and response.json_body == {"status": "ok"}
