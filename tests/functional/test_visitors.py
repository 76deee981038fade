"""Visitor profiles over REST, and returning visitors recognised by widget sessions."""
from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager

import jwt
import pytest

from devstack.harness import Api, MovableClock, Party, agent, frames_sent
from tests.helpers import all_items, audit_events, use_limits, without_rate_limits


def widget_session(api: Api, tenant: dict, **body) -> dict:
    response = api.call("POST", f"/v1/widget/{tenant['widget_key']}/sessions", body)
    assert response.status_code == 201, response.body
    return response.json_body


def profile_path(visitor_id: str) -> str:
    return f"/v1/visitors/{visitor_id}"


@pytest.fixture
def vera(api: Api, tenant: dict) -> dict:
    return widget_session(api, tenant, name="Vera", email="vera@example.com", locale="en-GB")


# --- Profiles -----------------------------------------------------------------------------
def test_profile_lists_past_and_current_conversations_newest_first(api: Api, tenant: dict, vera: dict,
                                                                  clock: MovableClock):
    sam = agent(api, tenant, "sam@acme.com")
    sam.send(action="presence.set", status="online")
    chat = Party(vera["visitor_token"])
    chat.send(action="message.send", client_msg_id="v1", text="Where is my parcel?")
    first = chat.of_type("ack")[0]["conversation_id"]
    sam.send(action="conversation.close", conversation_id=first, resolution="resolved")
    clock.advance(60)
    chat.send(action="message.send", client_msg_id="v2", text="It never came")
    second = chat.of_type("ack")[0]["conversation_id"]
    assert second != first

    response = api.call("GET", profile_path(vera["visitor_id"]), token=tenant["admin_token"])
    assert response.status_code == 200, response.body
    profile = response.json_body
    assert {key: profile[key] for key in ("visitor_id", "name", "email", "locale", "team", "tags", "notes")} == {
        "visitor_id": vera["visitor_id"], "name": "Vera", "email": "vera@example.com", "locale": "en",
        "team": None, "tags": [], "notes": ""}
    assert profile["created_at"] and profile["last_seen_at"]
    assert [(c["conversation_id"], c["status"]) for c in profile["conversations"]] == [
        (second, "assigned"), (first, "closed")]
    [event] = audit_events(tenant["tenant_id"], "visitor.read")
    assert event["target"] == vera["visitor_id"] and event["actor"]["kind"] == "agent"
    assert "Where is my parcel?" not in json.dumps(audit_events(tenant["tenant_id"]))


def test_tags_and_notes_are_patched_and_audited_without_the_notes(api: Api, tenant: dict, vera: dict):
    response = api.call("PATCH", profile_path(vera["visitor_id"]),
                        {"tags": ["vip", "billing issue", "vip"], "notes": "Prefers email, not calls"},
                        token=tenant["admin_token"])
    assert response.status_code == 200, response.body
    assert response.json_body["tags"] == ["vip", "billing issue"]
    assert response.json_body["notes"] == "Prefers email, not calls"
    [event] = audit_events(tenant["tenant_id"], "visitor.updated")
    assert event["details"] == {"fields": ["notes", "tags"]}
    assert "Prefers email" not in json.dumps(audit_events(tenant["tenant_id"]))

    api.call("PATCH", profile_path(vera["visitor_id"]), {"notes": ""}, token=tenant["admin_token"])
    reread = api.call("GET", profile_path(vera["visitor_id"]), token=tenant["admin_token"]).json_body
    assert reread["tags"] == ["vip", "billing issue"] and reread["notes"] == ""


@pytest.mark.parametrize("body, field", [
    ({"tags": ["x" * 31]}, "tags.0"),
    ({"tags": ["no/slashes"]}, "tags.0"),
    ({"tags": [f"t{n}" for n in range(21)]}, "tags"),
    ({"tags": "vip"}, "tags"),
    ({"tags": None}, "tags"),
    ({"notes": "x" * 2001}, "notes"),
    ({"notes": 5}, "notes"),
    ({"notes": "fine", "name": "Mallory"}, "name"),
])
def test_bad_patches_are_400_naming_the_field_and_write_nothing(api: Api, tenant: dict, vera: dict,
                                                                body: dict, field: str):
    before = without_rate_limits(all_items())
    response = api.call("PATCH", profile_path(vera["visitor_id"]), body, token=tenant["admin_token"])
    assert response.status_code == 400, response.body
    assert field in response.json_body["error"]["message"]
    assert without_rate_limits(all_items()) == before


def test_unknown_and_other_tenants_visitors_are_404(api: Api, tenant: dict, vera: dict):
    other = api.signup(name="Other", email="boss@other.com")
    other_token = api.login(other["tenant_id"], "boss@other.com")
    before = without_rate_limits(all_items())
    for token, visitor_id in ((other_token, vera["visitor_id"]), (tenant["admin_token"], "v_nobody")):
        assert api.call("GET", profile_path(visitor_id), token=token).status_code == 404
        patched = api.call("PATCH", profile_path(visitor_id), {"tags": ["x"]}, token=token)
        assert patched.status_code == 404 and patched.json_body["error"]["code"] == "not_found"
    assert without_rate_limits(all_items()) == before


def test_agents_read_and_patch_without_a_read_audit_but_visitors_are_refused(api: Api, tenant: dict,
                                                                              vera: dict):
    api.add_agent(tenant["admin_token"], "kim@acme.com")
    kim = api.login(tenant["tenant_id"], "kim@acme.com")
    assert api.call("GET", profile_path(vera["visitor_id"]), token=kim).status_code == 200
    assert audit_events(tenant["tenant_id"], "visitor.read") == []
    assert api.call("PATCH", profile_path(vera["visitor_id"]), {"tags": ["a"]}, token=kim).status_code == 200
    for method, body in (("GET", None), ("PATCH", {"tags": ["mine"]})):
        response = api.call(method, profile_path(vera["visitor_id"]), body, token=vera["visitor_token"])
        assert response.status_code == 403 and response.json_body["error"]["code"] == "forbidden"


# --- Returning visitors -------------------------------------------------------------------
def test_a_new_visitor_is_not_returning(vera: dict):
    assert vera["returning"] is False


def test_a_returning_visitor_is_recognised_by_token_even_expired(api: Api, tenant: dict, vera: dict,
                                                                 clock: MovableClock):
    clock.advance(3 * 86400)  # visitor tokens live 24 hours
    assert api.call("GET", "/v1/me", token=vera["visitor_token"]).status_code == 401
    again = widget_session(api, tenant, visitor_token=vera["visitor_token"], name="Vera Smith")
    assert again["returning"] is True and again["visitor_id"] == vera["visitor_id"]
    assert again["visitor_token"] != vera["visitor_token"]
    me = api.call("GET", "/v1/me", token=again["visitor_token"]).json_body
    assert me["visitor_id"] == vera["visitor_id"]
    admin_token = api.login(tenant["tenant_id"], "admin@acme.com")  # the fixture's expired too
    profile = api.call("GET", profile_path(vera["visitor_id"]), token=admin_token).json_body
    assert profile["name"] == "Vera Smith" and profile["email"] == "vera@example.com"
    assert profile["last_seen_at"] > profile["created_at"]
    [stored] = all_items()["switchboard-test-visitors"]
    assert stored["visitor_id"]["S"] == vera["visitor_id"]


# What a caller gets back, apart from what is always new (ids, token, its expiry).
SAME_FOR_EVERY_NEW_VISITOR = ("ws_url", "returning", "open_conversation_id")


def test_an_email_match_is_an_unverified_hint_for_agents_never_an_answer_to_the_caller(
        api: Api, tenant: dict, vera: dict):
    # Vera has an open chat; someone typing her email must neither write into it nor learn she exists.
    Party(vera["visitor_token"]).send(action="message.send", client_msg_id="v1", text="my order")
    again = widget_session(api, tenant, email="VERA@Example.COM")
    stranger = widget_session(api, tenant, email="someone@example.com")
    assert again.keys() == stranger.keys()
    assert {k: again[k] for k in SAME_FOR_EVERY_NEW_VISITOR} == {k: stranger[k] for k in SAME_FOR_EVERY_NEW_VISITOR} \
        == {"ws_url": vera["ws_url"], "returning": False, "open_conversation_id": None}
    assert again["visitor_id"] not in (vera["visitor_id"], stranger["visitor_id"])
    newcomer = Party(again["visitor_token"])
    newcomer.send(action="message.send", client_msg_id="n1", text="hello")
    ours = {c["conversation_id"] for c in api.call("GET", f"/v1/visitors/{vera['visitor_id']}",
                                                    token=tenant["admin_token"]).json_body["conversations"]}
    theirs = frames_sent(newcomer.connection_id)[0]["conversation_id"]
    assert theirs not in ours
    # Agents see the match as an unverified hint, with the new visitor's own history only.
    profile = api.call("GET", profile_path(again["visitor_id"]), token=tenant["admin_token"]).json_body
    assert profile["possible_match"] == {"visitor_id": vera["visitor_id"], "basis": "same_email", "verified": False}
    assert [c["conversation_id"] for c in profile["conversations"]] == [theirs]
    assert "known_as" not in profile and profile["user_id"] is None
    unmatched = api.call("GET", profile_path(stranger["visitor_id"]), token=tenant["admin_token"]).json_body
    assert unmatched["possible_match"] is None
    # An erased visitor is nobody's hint any more.
    assert api.call("DELETE", profile_path(vera["visitor_id"]), token=tenant["admin_token"]).status_code == 202
    profile = api.call("GET", profile_path(again["visitor_id"]), token=tenant["admin_token"]).json_body
    assert profile["possible_match"] is None


def test_a_very_old_token_starts_a_new_visit(api: Api, tenant: dict, vera: dict, clock: MovableClock):
    clock.advance(91 * 86400)
    again = widget_session(api, tenant, visitor_token=vera["visitor_token"])
    assert again["visitor_id"] != vera["visitor_id"]


def claims(token: str) -> dict:
    return jwt.decode(token, options={"verify_signature": False})


def test_resuming_never_winds_back_the_absolute_lifetime(api: Api, tenant: dict, vera: dict, clock: MovableClock):
    """A token from a resumed session carries the start of the first: past
    SWITCHBOARD_VISITOR_SESSION_MAX_SECONDS (30 days) the visitor starts afresh, however often it resumed."""
    started = claims(vera["visitor_token"])["vss"]
    token = vera["visitor_token"]
    for _ in range(14):  # every other day for four weeks, each with the newest token
        clock.advance(2 * 86400)
        again = widget_session(api, tenant, visitor_token=token)
        assert (again["visitor_id"], again["returning"]) == (vera["visitor_id"], True)
        token = again["visitor_token"]
        assert claims(token)["vss"] == started
        assert claims(token)["exp"] <= started + 30 * 86400  # no token outlives its run of sessions
    clock.advance(2 * 86400 + 1)  # 30 days after the first session
    fresh = widget_session(api, tenant, visitor_token=token, name="Vera")
    assert fresh["visitor_id"] != vera["visitor_id"] and fresh["returning"] is False
    assert claims(fresh["visitor_token"])["vss"] > started
    assert api.call("GET", profile_path(fresh["visitor_id"]), token=api.login(tenant["tenant_id"], "admin@acme.com")
                    ).json_body["conversations"] == []


def test_the_absolute_lifetime_is_configurable(api: Api, tenant: dict, clock: MovableClock):
    use_limits(visitor_session_max_seconds=3600)
    first = widget_session(api, tenant)
    assert claims(first["visitor_token"])["exp"] == claims(first["visitor_token"])["vss"] + 3600
    clock.advance(1800)
    assert widget_session(api, tenant, visitor_token=first["visitor_token"])["visitor_id"] == first["visitor_id"]
    clock.advance(1800)
    assert widget_session(api, tenant, visitor_token=first["visitor_token"])["visitor_id"] != first["visitor_id"]


@pytest.mark.parametrize("token", ["garbage", "eyJhbGciOiJIUzI1NiJ9.e30.c2ln"])
def test_a_bad_token_just_makes_a_new_visitor(api: Api, tenant: dict, vera: dict, token: str):
    fresh = widget_session(api, tenant, visitor_token=token)
    assert fresh["returning"] is False and fresh["visitor_id"] != vera["visitor_id"]


def test_another_tenants_token_or_email_never_reaches_its_visitor(api: Api, tenant: dict, vera: dict):
    other = api.signup(name="Other", email="boss@other.com")
    fresh = widget_session(api, other, visitor_token=vera["visitor_token"], email="vera@example.com")
    assert fresh["returning"] is False and fresh["visitor_id"] != vera["visitor_id"]
    me = api.call("GET", "/v1/me", token=fresh["visitor_token"]).json_body
    assert me["tenant_id"] == other["tenant_id"]


# --- Erasure during a live chat ---------------------------------------------------------------
@contextmanager
def refused_management_api() -> Iterator[list[str]]:
    """API Gateway refuses the function's posts and closes (as it refused the API role its posts:
    AccessDeniedException), answered below botocore; the operations refused are kept."""
    from botocore.awsrequest import AWSResponse
    from moto.core.botocore_stubber import BotocoreStubber, MockRawResponse

    refused: list[str] = []
    moto_call = BotocoreStubber.__call__

    def call(self, event_name, request, **kwargs):
        if event_name.startswith("before-send.apigatewaymanagementapi."):
            refused.append(event_name.rsplit(".", 1)[1])
            return AWSResponse(request.url, 403, {"Content-Type": "application/json",
                                                  "x-amzn-ErrorType": "AccessDeniedException"},
                               MockRawResponse(json.dumps({"message": "not authorized"})))
        return moto_call(self, event_name, request, **kwargs)

    BotocoreStubber.__call__ = call
    try:
        yield refused
    finally:
        BotocoreStubber.__call__ = moto_call


def test_erasure_finishes_and_is_audited_when_sockets_cannot_be_reached(api: Api, tenant: dict, vera: dict):
    sam = agent(api, tenant, "sam@acme.com")
    sam.send(action="presence.set", status="online")
    chat = Party(vera["visitor_token"])
    chat.send(action="message.send", client_msg_id="v1", text="my card is 4111 1111")
    conversation_id = chat.of_type("ack")[0]["conversation_id"]
    with refused_management_api() as refused:
        erased = api.call("DELETE", profile_path(vera["visitor_id"]), token=tenant["admin_token"])
    assert erased.status_code == 202, erased.body
    assert erased.json_body["conversations_shredded"] == 1
    assert {"DeleteConnection", "PostToConnection"} <= set(refused)  # the visitor's socket, the agent's frame
    [event] = audit_events(tenant["tenant_id"], "visitor.erased")
    assert event["target"] == vera["visitor_id"] and event["details"] == {"conversations_shredded": 1}
    messages = api.call("GET", f"/v1/conversations/{conversation_id}/messages", token=tenant["admin_token"])
    assert [(m["text"], m["redacted"]) for m in messages.json_body["items"]] == [(None, True)]
