"""Single sign-on with OpenID Connect, end to end against the local test issuer (devstack/oidc_issuer.py, a
real provider on a free port): registration, the code flow with PKCE, state and nonce, every way the ID token
or the flow can be wrong (each refused, sent to the console with its reason and audited once), tenant
isolation of states, and SSO-only refusing passwords to everyone but admins."""
from __future__ import annotations

from collections.abc import Iterator
from urllib.parse import parse_qs, urlsplit

import pytest
import requests

from chalicelib.storage.sso import REGISTRATION, SsoModel
from devstack.harness import PASSWORD, Api
from devstack.oidc_issuer import CLIENT_ID, CLIENT_SECRET, OidcIssuer
from tests.helpers import agent_id_of, audit_events, error_of, header, use_limits

PUBLIC_URL = "https://test.execute-api.us-east-1.amazonaws.com/api"  # tests/conftest.py's SWITCHBOARD_PUBLIC_URL
CALLBACK = PUBLIC_URL + "/v1/auth/sso/callback"


@pytest.fixture
def issuer() -> Iterator[OidcIssuer]:
    running = OidcIssuer(redirect_uris=[CALLBACK], users=["admin@acme.com", "sam@acme.com"]).start()
    yield running
    running.stop()


@pytest.fixture
def sso(api: Api, tenant: dict, issuer: OidcIssuer) -> dict:
    """The tenant registered with the test issuer (the local stack may fetch http://127.0.0.1)."""
    use_limits(outbound_allow_loopback=True)
    response = api.call("PUT", "/v1/sso", {"issuer": issuer.issuer, "client_id": CLIENT_ID,
                                           "client_secret": CLIENT_SECRET}, token=tenant["admin_token"])
    assert response.status_code == 200, response.body
    return response.json_body


# The test's browser: the cookies the app set (name -> value), sent back as a browser would.
JAR: dict[str, str] = {}


@pytest.fixture(autouse=True)
def fresh_browser() -> None:
    JAR.clear()


def as_browser(api: Api, path: str):
    """GET path with the jar's cookies; the cookies it sets or clears kept."""
    cookie = "; ".join(f"{name}={value}" for name, value in JAR.items())
    response = api.call("GET", path, headers={"Cookie": cookie} if cookie else None)
    set_cookie = header(response, "Set-Cookie")
    if set_cookie:
        name, _, value = set_cookie.split(";", 1)[0].partition("=")
        if "Max-Age=0" in set_cookie:
            JAR.pop(name, None)
        else:
            JAR[name] = value
    return response


def start(api: Api, tenant_id: str, email: str | None = None) -> str:
    """GET /v1/auth/sso/start: where it sends the browser."""
    query = f"?tenant_id={tenant_id}" + (f"&email={email}" if email else "")
    response = as_browser(api, "/v1/auth/sso/start" + query)
    assert response.status_code == 302, response.body
    return header(response, "Location")


def pick_user(authorize_url: str, email: str) -> str:
    """What the issuer's page does when `email` is picked: the callback URL it redirects to."""
    answer = requests.get(authorize_url + "&user=" + email, allow_redirects=False, timeout=10)
    assert answer.status_code == 302, answer.text
    location = answer.headers["Location"]
    assert location.startswith(CALLBACK)
    return location


def callback(api: Api, url: str) -> str:
    """The issuer's redirect followed into the app: the fragment of the console URL it answers with."""
    response = as_browser(api, url.removeprefix(PUBLIC_URL))
    assert response.status_code == 302, response.body
    location = header(response, "Location")
    console, _, fragment = location.partition("#")
    assert console == PUBLIC_URL + "/app"
    return fragment


def sign_in(api: Api, tenant: dict, email: str) -> str:
    return callback(api, pick_user(start(api, tenant["tenant_id"]), email))


def redeem(api: Api, fragment: str):
    assert fragment.startswith("sso="), fragment
    return api.call("POST", "/v1/auth/sso/redeem", {"code": fragment.removeprefix("sso=")})


def failures(tenant: dict) -> list[str]:
    return [event["details"]["reason"] for event in audit_events(tenant["tenant_id"], "auth.sso_failed")]


# --- Registration -------------------------------------------------------------------------------------
def test_an_admin_registers_the_issuer_and_the_secret_is_never_shown_or_stored_plain(api: Api, tenant: dict,
                                                                                   issuer: OidcIssuer, sso: dict):
    assert sso == {"issuer": issuer.issuer, "client_id": CLIENT_ID, "sso_only": False, "redirect_uri": CALLBACK,
                   "updated_at": sso["updated_at"]}
    assert api.call("GET", "/v1/sso", token=tenant["admin_token"]).json_body == sso
    stored = SsoModel.get(tenant["tenant_id"], REGISTRATION)
    assert CLIENT_SECRET.encode() not in stored.client_secret_wrapped
    assert CLIENT_SECRET not in str(stored.attribute_values)
    # Changing SSO-only alone keeps the secret (same issuer and client id): sign-in still works.
    changed = api.call("PUT", "/v1/sso", {"issuer": issuer.issuer, "client_id": CLIENT_ID, "sso_only": True},
                       token=tenant["admin_token"])
    assert changed.status_code == 200 and changed.json_body["sso_only"] is True
    assert redeem(api, sign_in(api, tenant, "admin@acme.com")).status_code == 200
    events = audit_events(tenant["tenant_id"])
    assert [e["action"] for e in events if e["action"].startswith("sso.")] == ["sso.registered", "sso.changed"]
    assert CLIENT_SECRET not in str(events)
    assert api.call("DELETE", "/v1/sso", token=tenant["admin_token"]).status_code == 204
    assert api.call("GET", "/v1/sso", token=tenant["admin_token"]).status_code == 404
    assert api.call("DELETE", "/v1/sso", token=tenant["admin_token"]).status_code == 404
    assert audit_events(tenant["tenant_id"])[-1]["action"] == "sso.removed"


def test_registration_checks_the_discovery_document_and_names_what_is_wrong(api: Api, tenant: dict,
                                                                            issuer: OidcIssuer):
    use_limits(outbound_allow_loopback=True)
    body = {"issuer": issuer.issuer, "client_id": CLIENT_ID, "client_secret": CLIENT_SECRET}
    cases = [({"issuer": issuer.issuer + "/"}, "not exactly the one registered"),
             ({"issuer": "https://10.1.2.3"}, "non-public address"),
             ({"issuer": "http://example.com"}, "https://"),
             ({"client_secret": None}, "client_secret: required")]
    for change, named in cases:
        response = api.call("PUT", "/v1/sso", {**body, **change}, token=tenant["admin_token"])
        assert response.status_code == 400 and named in error_of(response)["message"], (change, response.body)
    discovery = issuer.discovery

    def without_s256() -> dict:
        return {**discovery(), "code_challenge_methods_supported": ["plain"]}

    issuer.discovery = without_s256  # type: ignore[method-assign]
    response = api.call("PUT", "/v1/sso", body, token=tenant["admin_token"])
    assert response.status_code == 400 and "S256" in error_of(response)["message"]
    assert api.call("GET", "/v1/sso", token=tenant["admin_token"]).status_code == 404  # nothing half-written
    agent = api.add_agent(tenant["admin_token"], "sam@acme.com", role="supervisor")
    sam = api.login(tenant["tenant_id"], "sam@acme.com")
    assert api.call("PUT", "/v1/sso", body, token=sam).status_code == 403
    assert agent["role"] == "supervisor"


def test_two_admins_saving_at_once_one_wins_and_the_other_is_told(api: Api, tenant: dict, issuer: OidcIssuer,
                                                                   sso: dict, monkeypatch):
    from chalicelib.sso import registration

    check_discovery, raced = registration.discover, []

    def another_admin_saves_meanwhile(issuer_url: str, *, fresh: bool = False):
        if not raced:  # between this PUT's read and its write, another PUT lands
            raced.append(None)
            raced[0] = api.call("PUT", "/v1/sso", {"issuer": issuer.issuer, "client_id": CLIENT_ID,
                                                   "sso_only": True}, token=tenant["admin_token"])
        return check_discovery(issuer_url, fresh=fresh)

    monkeypatch.setattr(registration, "discover", another_admin_saves_meanwhile)
    loser = api.call("PUT", "/v1/sso", {"issuer": issuer.issuer, "client_id": "other-client",
                                              "client_secret": "another secret"}, token=tenant["admin_token"])
    assert raced[0].status_code == 200
    assert loser.status_code == 409 and error_of(loser)["code"] == "conflict"
    assert api.call("GET", "/v1/sso", token=tenant["admin_token"]).json_body["client_id"] == CLIENT_ID
    assert [e["action"] for e in audit_events(tenant["tenant_id"]) if e["action"].startswith("sso.")] == \
        ["sso.registered", "sso.changed"]  # the loser wrote nothing


# --- The flow -----------------------------------------------------------------------------------------
def test_signing_in_through_the_issuer_starts_a_session_like_a_password_login(api: Api, tenant: dict,
                                                                              issuer: OidcIssuer, sso: dict):
    authorize = start(api, tenant["tenant_id"], email="sam@acme.com")
    params = parse_qs(urlsplit(authorize).query)
    assert authorize.startswith(issuer.issuer + "/authorize?")
    assert params["code_challenge_method"] == ["S256"] and params["redirect_uri"] == [CALLBACK]
    assert params["login_hint"] == ["sam@acme.com"] and params["client_id"] == [CLIENT_ID]
    assert {"state", "nonce", "code_challenge"} <= params.keys()
    fragment = callback(api, pick_user(authorize, "admin@acme.com"))
    response = redeem(api, fragment)
    assert response.status_code == 200, response.body
    body = response.json_body
    assert body.keys() == {"token", "expires_at", "session_expires_at", "ws_url", "agent", "totp_enrolment_required",
                           "device_token", "device_expires_at"}  # a password login's answer
    assert body["totp_enrolment_required"] is False and body["device_token"] is None  # the issuer's factors count
    assert body["agent"]["email"] == "admin@acme.com"
    assert api.call("GET", "/v1/me", token=body["token"]).json_body["agent"]["email"] == "admin@acme.com"
    login = audit_events(tenant["tenant_id"], "auth.login")[-1]
    assert login["details"]["method"] == "sso" and login["target"] == agent_id_of(tenant, "admin@acme.com")
    # The code is one-time: a second redeem is refused and audited.
    again = redeem(api, fragment)
    assert again.status_code == 401 and error_of(again)["code"] == "unauthorized"
    assert failures(tenant) == ["code_unknown"]


def test_a_replayed_state_is_refused(api: Api, tenant: dict, issuer: OidcIssuer, sso: dict):
    back = pick_user(start(api, tenant["tenant_id"]), "admin@acme.com")
    assert callback(api, back + "&session_state=x&authuser=0").startswith("sso=")  # issuers' own extras pass
    assert callback(api, back) == "sso_error=state_unknown"
    assert failures(tenant) == ["state_unknown"]


def test_a_callback_from_another_browser_signs_nobody_in(api: Api, tenant: dict, issuer: OidcIssuer, sso: dict):
    """Login CSRF: an attacker signs in at the issuer as themselves and sends the victim the callback link."""
    set_cookie = header(api.call("GET", f"/v1/auth/sso/start?tenant_id={tenant['tenant_id']}"), "Set-Cookie")
    assert "HttpOnly" in set_cookie and "SameSite=Lax" in set_cookie and "Secure" in set_cookie
    assert "Path=/api/v1/auth/sso/callback" in set_cookie
    back = pick_user(start(api, tenant["tenant_id"]), "admin@acme.com")
    JAR.clear()  # the victim's browser holds no cookie of that sign-in
    assert callback(api, back) == "sso_error=browser_mismatch"
    authorize = start(api, tenant["tenant_id"])
    (name,) = JAR
    JAR[name] = "a-guess"  # the right cookie's name with a guessed value
    assert callback(api, pick_user(authorize, "admin@acme.com")) == "sso_error=browser_mismatch"
    assert failures(tenant) == ["browser_mismatch", "browser_mismatch"]
    assert audit_events(tenant["tenant_id"], "auth.login")[-1]["details"].get("method") is None  # no SSO login


def test_sign_ins_started_in_two_tabs_both_finish(api: Api, tenant: dict, issuer: OidcIssuer, sso: dict):
    first = start(api, tenant["tenant_id"])
    second = start(api, tenant["tenant_id"])
    assert len(JAR) == 2
    assert redeem(api, callback(api, pick_user(second, "admin@acme.com"))).status_code == 200
    assert redeem(api, callback(api, pick_user(first, "admin@acme.com"))).status_code == 200
    assert JAR == {}  # each callback cleared its own cookie


def test_a_state_past_ten_minutes_is_refused(api: Api, tenant: dict, issuer: OidcIssuer, sso: dict, clock):
    back = pick_user(start(api, tenant["tenant_id"]), "admin@acme.com")
    clock.advance(601)
    assert callback(api, back) == "sso_error=state_unknown"


@pytest.mark.parametrize(("misbehaviour", "reason"), [
    ({"rogue_key": True}, "bad_signature"),
    ({"audience": "someone-else"}, "wrong_audience"),
    ({"audience": [CLIENT_ID, "someone-else"]}, "wrong_audience"),  # several audiences and no azp naming us
    ({"expired": True}, "token_expired"),
    ({"unverified": True}, "email_unverified"),
    ({"token_error": True}, "token_endpoint_error"),
])
def test_a_token_the_issuer_got_wrong_is_refused_and_audited(api: Api, tenant: dict, issuer: OidcIssuer,
                                                             sso: dict, misbehaviour: dict, reason: str):
    for name, value in misbehaviour.items():
        setattr(issuer.misbehave, name, value)
    assert sign_in(api, tenant, "admin@acme.com") == f"sso_error={reason}"
    assert failures(tenant) == [reason]
    assert len(audit_events(tenant["tenant_id"], "auth.login")) == 1  # the fixture's password login only


@pytest.mark.parametrize(("claims", "signed_in"), [
    ({"no_email_verified": True, "xms_edov": True}, True),  # Entra with its optional claim added
    ({"no_email_verified": True}, False),  # Entra without it: nothing says the email is the user's
    ({"no_email_verified": True, "xms_edov": "true"}, False),  # only a JSON true counts
    ({"unverified": True, "xms_edov": True}, False),  # an email_verified false is never overruled
])
def test_an_issuer_without_email_verified_is_trusted_only_on_entras_domain_verified_claim(
        api: Api, tenant: dict, issuer: OidcIssuer, sso: dict, claims: dict, signed_in: bool):
    for name, value in claims.items():
        setattr(issuer.misbehave, name, value)
    back = sign_in(api, tenant, "admin@acme.com")
    assert back.startswith("sso=") if signed_in else back == "sso_error=email_unverified"


def test_a_replayed_nonce_is_refused(api: Api, tenant: dict, issuer: OidcIssuer, sso: dict):
    issuer.misbehave.replay_nonce = True
    assert sign_in(api, tenant, "admin@acme.com").startswith("sso=")  # the first nonce is this flow's own
    assert sign_in(api, tenant, "admin@acme.com") == "sso_error=nonce_mismatch"
    assert failures(tenant) == ["nonce_mismatch"]


def test_a_rotated_issuer_key_is_fetched_once_its_new_key_id_appears(api: Api, tenant: dict, issuer: OidcIssuer,
                                                                     sso: dict):
    assert sign_in(api, tenant, "admin@acme.com").startswith("sso=")  # the JWKS is cached now
    issuer.rotate_key()
    assert sign_in(api, tenant, "admin@acme.com").startswith("sso=")


def test_only_an_existing_active_agent_of_the_tenant_signs_in(api: Api, tenant: dict, issuer: OidcIssuer,
                                                              sso: dict):
    assert sign_in(api, tenant, "nobody@acme.com") == "sso_error=no_such_agent"
    sam = api.add_agent(tenant["admin_token"], "sam@acme.com")
    assert api.call("DELETE", f"/v1/agents/{sam['agent_id']}", token=tenant["admin_token"]).status_code == 204
    assert sign_in(api, tenant, "sam@acme.com") == "sso_error=agent_inactive"
    # An agent deactivated between the callback and the redeem gets no session either.
    lee = api.add_agent(tenant["admin_token"], "lee@acme.com")
    fragment = sign_in(api, tenant, "lee@acme.com")
    assert api.call("DELETE", f"/v1/agents/{lee['agent_id']}", token=tenant["admin_token"]).status_code == 204
    assert redeem(api, fragment).status_code == 401
    assert failures(tenant) == ["no_such_agent", "agent_inactive", "agent_inactive"]


def test_another_tenants_state_or_code_works_only_for_its_own_tenant(api: Api, tenant: dict, issuer: OidcIssuer,
                                                                     sso: dict):
    other = signed_up_other(api)
    registered = api.call("PUT", "/v1/sso", {"issuer": issuer.issuer, "client_id": CLIENT_ID,
                                             "client_secret": CLIENT_SECRET}, token=other["admin_token"])
    assert registered.status_code == 200
    back = pick_user(start(api, tenant["tenant_id"]), "admin@acme.com")
    query = parse_qs(urlsplit(back).query)
    state = query["state"][0]
    forged = back.replace(state, other["tenant_id"] + state[state.index("."):])
    assert callback(api, forged) == "sso_error=state_unknown"  # B's tenant has no such state
    fragment = callback(api, back)
    code = fragment.removeprefix("sso=")
    moved = other["tenant_id"] + code[code.index("."):]
    assert api.call("POST", "/v1/auth/sso/redeem", {"code": moved}).status_code == 401
    assert failures(other) == ["state_unknown", "code_unknown"] and failures(tenant) == []
    # admin@acme.com of tenant A is nobody in tenant B: the real code still signs in to A only.
    body = redeem(api, fragment).json_body
    assert api.call("GET", "/v1/me", token=body["token"]).json_body["tenant_id"] == tenant["tenant_id"]


def signed_up_other(api: Api) -> dict:
    signed = api.signup(name="Other", email="admin@other.com")
    signed["admin_token"] = api.login(signed["tenant_id"], "admin@other.com")
    return signed


def test_an_unconfigured_tenant_or_a_garbled_callback_ends_at_the_console(api: Api, tenant: dict):
    assert start(api, tenant["tenant_id"]) == PUBLIC_URL + "/app#sso_error=not_configured"
    assert start(api, "t_nosuchtenant") == PUBLIC_URL + "/app#sso_error=not_configured"
    for query, reason in (("", "state_unknown"), ("?state=junk&code=x", "state_unknown"),
                          ("?error=access_denied", "state_unknown"),
                          (f"?state={tenant['tenant_id']}.{'a' * 64}&code=x", "not_configured")):
        response = as_browser(api, "/v1/auth/sso/callback" + query)
        assert response.status_code == 302
        assert header(response, "Location") == PUBLIC_URL + "/app#sso_error=" + reason
    assert audit_events(tenant["tenant_id"], "auth.sso_failed") == []  # no SSO here: nothing to record


def test_the_user_cancelling_at_the_issuer_is_reported(api: Api, tenant: dict, issuer: OidcIssuer, sso: dict):
    authorize = start(api, tenant["tenant_id"])
    state = parse_qs(urlsplit(authorize).query)["state"][0]
    assert callback(api, f"{CALLBACK}?error=access_denied&state={state}") == "sso_error=issuer_refused"
    assert audit_events(tenant["tenant_id"], "auth.sso_failed")[0]["details"]["error"] == "access_denied"


# --- SSO-only -----------------------------------------------------------------------------------------
def test_sso_only_refuses_staff_passwords_after_they_check_out_but_admins_keep_theirs(api: Api, tenant: dict,
                                                                                      issuer: OidcIssuer, sso: dict):
    api.add_agent(tenant["admin_token"], "sam@acme.com")
    key = api.call("POST", "/v1/api-keys", {"name": "ci", "role": "agent"}, token=tenant["admin_token"]).json_body
    assert api.call("PUT", "/v1/sso", {"issuer": issuer.issuer, "client_id": CLIENT_ID, "sso_only": True},
                    token=tenant["admin_token"]).status_code == 200
    right = {"tenant_id": tenant["tenant_id"], "email": "sam@acme.com", "password": PASSWORD}
    refused = api.call("POST", "/v1/auth/login", right)
    assert refused.status_code == 403 and error_of(refused)["code"] == "sso_required"
    wrong = api.call("POST", "/v1/auth/login", {**right, "password": "not it at all"})
    assert wrong.status_code == 401 and error_of(wrong)["code"] == "unauthorized"  # tells nothing more
    assert api.login(tenant["tenant_id"], "admin@acme.com")  # break-glass: admins keep password login
    assert api.call("GET", "/v1/me", token=key["api_key"]).status_code == 200  # API keys are unaffected
    assert redeem(api, sign_in(api, tenant, "sam@acme.com")).status_code == 200
    # Without SSO-only, the same password works again.
    api.call("PUT", "/v1/sso", {"issuer": issuer.issuer, "client_id": CLIENT_ID, "sso_only": False},
             token=tenant["admin_token"])
    assert api.call("POST", "/v1/auth/login", right).status_code == 200
