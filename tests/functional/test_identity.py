"""Identity verification (the tenant's server signs its user id with the tenant's identity secret) and
the rotation of the identity secret and the widget key, through the Chalice handlers."""
from __future__ import annotations

import hashlib
import hmac
import json
from concurrent.futures import ThreadPoolExecutor

import pytest

from chalicelib.storage.visitors import VisitorIdentityModel, VisitorModel
from devstack.harness import Api, Party, widget_session
from tests.helpers import all_items, audit_events, without_rate_limits


def user_hash(secret: str, user_id: str) -> str:
    """What the tenant's server computes (docs/api.md, identity verification)."""
    return hmac.new(secret.encode(), user_id.encode(), hashlib.sha256).hexdigest()


def rotate_secret(api: Api, tenant: dict) -> str:
    response = api.call("POST", "/v1/identity-secret", token=tenant["admin_token"])
    assert response.status_code == 200, response.body
    return response.json_body["identity_secret"]


def verified(api: Api, tenant: dict, secret: str, user_id: str, **body) -> dict:
    response = widget_session(api, tenant, user_id=user_id, user_hash=user_hash(secret, user_id), **body)
    assert response.status_code == 201, response.body
    return response.json_body


def profile(api: Api, tenant: dict, visitor_id: str) -> dict:
    return api.call("GET", f"/v1/visitors/{visitor_id}", token=tenant["admin_token"]).json_body


@pytest.fixture
def secret(api: Api, tenant: dict) -> str:
    return rotate_secret(api, tenant)


# --- The secret -------------------------------------------------------------------------------
def test_the_secret_is_shown_once_stored_only_wrapped_and_audited(api: Api, tenant: dict):
    settings = api.call("GET", "/v1/settings", token=tenant["admin_token"]).json_body
    assert settings["identity_verification"] is False
    response = api.call("POST", "/v1/identity-secret", token=tenant["admin_token"])
    assert response.status_code == 200 and set(response.json_body) == {"identity_secret", "rotated_at"}
    secret = response.json_body["identity_secret"]
    assert len(secret) == 64
    settings = api.call("GET", "/v1/settings", token=tenant["admin_token"]).json_body
    assert settings["identity_verification"] is True and secret not in json.dumps(settings)
    stored = json.dumps(all_items(), default=repr)
    assert secret not in stored and secret.encode().hex() not in stored
    [event] = audit_events(tenant["tenant_id"], "identity_secret.rotated")
    assert event["actor"]["kind"] == "agent" and secret not in json.dumps(event)


def test_settings_keep_the_flag_and_cannot_set_it(api: Api, tenant: dict, secret: str):
    changed = api.call("PUT", "/v1/settings", {"bot_enabled": False}, token=tenant["admin_token"])
    assert changed.status_code == 200 and changed.json_body["identity_verification"] is True
    refused = api.call("PUT", "/v1/settings", {"identity_verification": False}, token=tenant["admin_token"])
    assert refused.status_code == 400 and "identity_verification" in refused.json_body["error"]["message"]


def test_only_admins_rotate(api: Api, tenant: dict):
    api.add_agent(tenant["admin_token"], "lee@acme.com", role="supervisor")
    lee = api.login(tenant["tenant_id"], "lee@acme.com")
    vera = widget_session(api, tenant).json_body["visitor_token"]
    before = without_rate_limits(all_items())
    for path in ("/v1/identity-secret", "/v1/widget-key"):
        assert api.call("POST", path, token=lee).status_code == 403
        assert api.call("POST", path, token=vera).status_code == 403
        assert api.call("POST", path).status_code == 401
    assert without_rate_limits(all_items()) == before


# --- Verified sessions ----------------------------------------------------------------------------
def test_a_verified_user_is_one_visitor_with_one_history_from_any_browser(api: Api, tenant: dict, secret: str):
    first = verified(api, tenant, secret, "user-42", name="Vera", email="vera@example.com")
    assert first["returning"] is False and first["open_conversation_id"] is None
    Party(first["visitor_token"]).send(action="message.send", client_msg_id="v1", text="my order")
    conversation_id = profile(api, tenant, first["visitor_id"])["conversations"][0]["conversation_id"]
    # Another browser (no visitor token): the same visitor, their open chat, their history.
    elsewhere = verified(api, tenant, secret, "user-42")
    assert (elsewhere["visitor_id"], elsewhere["returning"], elsewhere["open_conversation_id"]) == (
        first["visitor_id"], True, conversation_id)
    seen = profile(api, tenant, first["visitor_id"])
    assert seen["user_id"] == "user-42" and seen["name"] == "Vera"
    # A visitor token of someone else in this browser never beats the verified user.
    stranger = widget_session(api, tenant).json_body
    mine = verified(api, tenant, secret, "user-42", visitor_token=stranger["visitor_token"])
    assert mine["visitor_id"] == first["visitor_id"]
    other_user = verified(api, tenant, secret, "user-43", email="vera@example.com")
    assert other_user["visitor_id"] != first["visitor_id"] and other_user["returning"] is False
    # The same email is only a hint, even for a verified user.
    assert profile(api, tenant, other_user["visitor_id"])["possible_match"]["verified"] is False


@pytest.mark.parametrize("user_id, sent_hash", [
    ("user-42", "0" * 64),
    ("user-42", user_hash("not the secret", "user-42")),
    ("user-42", None),  # computed for user-43 below
])
def test_a_wrong_user_hash_is_401_and_writes_nothing(api: Api, tenant: dict, secret: str, user_id: str,
                                                     sent_hash: str | None):
    sent_hash = sent_hash or user_hash(secret, "user-43")
    before = without_rate_limits(all_items())
    refused = widget_session(api, tenant, user_id=user_id, user_hash=sent_hash, email="vera@example.com")
    assert refused.status_code == 401 and refused.json_body["error"]["code"] == "identity_not_verified"
    assert refused.headers["Access-Control-Allow-Origin"] == "*"
    assert without_rate_limits(all_items()) == before


def test_without_a_secret_no_user_id_verifies(api: Api, tenant: dict):
    refused = widget_session(api, tenant, user_id="user-42", user_hash=user_hash("", "user-42"))
    assert refused.status_code == 401


def test_an_uppercase_hash_verifies_and_half_a_pair_is_400(api: Api, tenant: dict, secret: str):
    assert widget_session(api, tenant, user_id="u", user_hash=user_hash(secret, "u").upper()).status_code == 201
    for body in ({"user_id": "u"}, {"user_hash": user_hash(secret, "u")}, {"user_id": "u", "user_hash": "xyz"},
                 {"user_id": "", "user_hash": user_hash(secret, "")}, {"user_id": "u" * 256, "user_hash": "0" * 64}):
        response = widget_session(api, tenant, **body)
        assert response.status_code == 400, body


def test_a_rotated_secret_stops_verifying_at_once(api: Api, tenant: dict, secret: str):
    first = verified(api, tenant, secret, "user-42")
    new_secret = rotate_secret(api, tenant)
    assert new_secret != secret
    assert widget_session(api, tenant, user_id="user-42", user_hash=user_hash(secret, "user-42")).status_code == 401
    assert verified(api, tenant, new_secret, "user-42")["visitor_id"] == first["visitor_id"]
    assert len(audit_events(tenant["tenant_id"], "identity_secret.rotated")) == 2


def test_another_tenants_secret_never_verifies_here(api: Api, tenant: dict, secret: str):
    other = api.signup(name="Other", email="boss@other.com")
    other["admin_token"] = api.login(other["tenant_id"], "boss@other.com")
    theirs = rotate_secret(api, other)
    assert widget_session(api, tenant, user_id="user-42", user_hash=user_hash(theirs, "user-42")).status_code == 401
    here, there = verified(api, tenant, secret, "user-42"), verified(api, other, theirs, "user-42")
    assert here["visitor_id"] != there["visitor_id"]


def test_racing_first_sessions_of_one_user_make_one_visitor(api: Api, tenant: dict, secret: str):
    with ThreadPoolExecutor(4) as pool:
        answers = list(pool.map(lambda _: verified(api, tenant, secret, "user-42"), range(4)))
    assert len({answer["visitor_id"] for answer in answers}) == 1
    assert sorted(answer["returning"] for answer in answers).count(False) == 1
    assert len(list(VisitorModel.query(tenant["tenant_id"]))) == 1


def test_erasure_unlinks_the_user_whose_next_session_has_no_past(api: Api, tenant: dict, secret: str):
    first = verified(api, tenant, secret, "user-42", name="Vera")
    Party(first["visitor_token"]).send(action="message.send", client_msg_id="v1", text="forget me")
    assert api.call("DELETE", f"/v1/visitors/{first['visitor_id']}", token=tenant["admin_token"]).status_code == 202
    tombstone = VisitorModel.get(tenant["tenant_id"], first["visitor_id"])
    assert tombstone.user_id is None and tombstone.name is None
    assert list(VisitorIdentityModel.query(tenant["tenant_id"])) == []
    again = verified(api, tenant, secret, "user-42")
    assert again["visitor_id"] != first["visitor_id"] and again["returning"] is False
    assert profile(api, tenant, again["visitor_id"])["conversations"] == []


def test_the_identity_table_holds_no_user_id(api: Api, tenant: dict, secret: str):
    verified(api, tenant, secret, "customer-8812@example.com")
    stored = json.dumps(all_items()["switchboard-test-visitor-identities"])
    assert "customer-8812" not in stored


# --- The widget key ------------------------------------------------------------------------------
def test_a_rotated_widget_key_replaces_the_old_one_at_once(api: Api, tenant: dict):
    vera = widget_session(api, tenant).json_body
    response = api.call("POST", "/v1/widget-key", token=tenant["admin_token"])
    assert response.status_code == 200
    new_key = response.json_body["widget_key"]
    assert new_key != tenant["widget_key"] and new_key.startswith(f"wk.{tenant['tenant_id']}.")
    gone = widget_session(api, tenant)
    assert gone.status_code == 404 and gone.json_body["error"]["code"] == "not_found"
    assert widget_session(api, {**tenant, "widget_key": new_key}).status_code == 201
    # Visitors already in keep their sessions and may resume them under the new key.
    assert api.call("GET", "/v1/me", token=vera["visitor_token"]).status_code == 200
    resumed = widget_session(api, {**tenant, "widget_key": new_key}, visitor_token=vera["visitor_token"]).json_body
    assert resumed["visitor_id"] == vera["visitor_id"]
    [event] = audit_events(tenant["tenant_id"], "widget_key.rotated")
    assert event["target"] == tenant["tenant_id"] and new_key not in json.dumps(event)


def test_openapi_describes_the_rotations_and_identity_fields(api: Api):
    document = api.call("GET", "/openapi.json").json_body
    assert "post" in document["paths"]["/v1/identity-secret"] and "post" in document["paths"]["/v1/widget-key"]
    sessions = document["paths"]["/v1/widget/{widget_key}/sessions"]["post"]
    assert "401" in sessions["responses"]
    schema = sessions["requestBody"]["content"]["application/json"]["schema"]["$ref"].rsplit("/", 1)[1]
    assert {"user_id", "user_hash"} <= set(document["components"]["schemas"][schema]["properties"])
