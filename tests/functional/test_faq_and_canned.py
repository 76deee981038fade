"""FAQ entries (and the bot's matching) and canned responses through the Chalice handlers on moto."""
from __future__ import annotations

import base64
import json

import pytest

from chalicelib.bot import service as bot
from chalicelib.storage.settings import DEFAULT_HANDOFF_PHRASES
from devstack.harness import Api
from tests.helpers import all_items, error_of, without_rate_limits

FAQ_TABLE, CANNED_TABLE = "switchboard-test-faq", "switchboard-test-canned-responses"
RETURNS = {"question": "What is your return policy?", "answer": "Within 30 days, for a full refund.",
           "keywords": ["returns", "refund"]}
SHIPPING = {"question": "How long does shipping take?", "answer": "Two to four working days.",
            "keywords": ["delivery"]}


@pytest.fixture
def other_admin(api: Api) -> str:
    other = api.signup(name="Other", email="boss@other.com")
    return api.login(other["tenant_id"], "boss@other.com")


@pytest.fixture
def staff(api: Api, tenant: dict) -> dict[str, str]:
    """A token for each non-admin staff role, and a visitor token."""
    tokens = {}
    for role in ("agent", "supervisor", "compliance"):
        api.add_agent(tenant["admin_token"], f"{role}@acme.com", role=role)
        tokens[role] = api.login(tenant["tenant_id"], f"{role}@acme.com")
    session = api.call("POST", f"/v1/widget/{tenant['widget_key']}/sessions", {})
    tokens["visitor"] = session.json_body["visitor_token"]
    return tokens


def created(api: Api, token: str, path: str, body: dict) -> dict:
    response = api.call("POST", path, body, token=token)
    assert response.status_code == 201, response.body
    return response.json_body


def faq_count(tenant_id: str) -> int:
    [tenant] = [t for t in all_items()["switchboard-test-tenants"] if t["tenant_id"]["S"] == tenant_id]
    return int(tenant["faq_count"]["N"])


def forged_cursor(key_name: str) -> str:
    key = {"tenant_id": {"S": "t_other"}, key_name: {"S": "x"}}
    return base64.urlsafe_b64encode(json.dumps(key).encode()).decode()


# --- FAQ ----------------------------------------------------------------------------------
def test_faq_lifecycle(api: Api, tenant: dict):
    admin = tenant["admin_token"]
    entry = created(api, admin, "/v1/faq", RETURNS)
    assert entry["faq_id"].startswith("faq_") and entry["keywords"] == ["returns", "refund"]
    assert entry["created_at"].endswith("Z") and entry["updated_at"] == entry["created_at"]
    second = created(api, admin, "/v1/faq", {"question": "Do you ship abroad?", "answer": "Yes."})
    assert second["keywords"] == []
    assert faq_count(tenant["tenant_id"]) == 2

    listed = api.call("GET", "/v1/faq", token=admin).json_body
    assert [e["faq_id"] for e in listed["items"]] == sorted([entry["faq_id"], second["faq_id"]])
    assert listed["next_cursor"] is None

    # PUT replaces the whole entry: keywords left out become [].
    replaced = api.call("PUT", f"/v1/faq/{entry['faq_id']}", {"question": "Can I return things?",
                                                               "answer": "Yes, within 30 days."}, token=admin)
    assert replaced.status_code == 200
    assert replaced.json_body == {**entry, "question": "Can I return things?", "answer": "Yes, within 30 days.",
                                  "keywords": [], "updated_at": replaced.json_body["updated_at"]}

    deleted = api.call("DELETE", f"/v1/faq/{entry['faq_id']}", token=admin)
    assert deleted.status_code == 200 and deleted.json_body == replaced.json_body
    assert [e["faq_id"] for e in api.call("GET", "/v1/faq", token=admin).json_body["items"]] == [second["faq_id"]]
    assert faq_count(tenant["tenant_id"]) == 1
    for method, body in (("DELETE", None), ("PUT", RETURNS)):
        response = api.call(method, f"/v1/faq/{entry['faq_id']}", body, token=admin)
        assert response.status_code == 404 and error_of(response)["code"] == "not_found"
    assert faq_count(tenant["tenant_id"]) == 1


def test_two_hundred_entries_then_409_and_pages_of_a_hundred(api: Api, tenant: dict):
    admin = tenant["admin_token"]
    ids = [created(api, admin, "/v1/faq", {"question": f"Question {n}?", "answer": "Answer."})["faq_id"]
           for n in range(200)]
    before = without_rate_limits(all_items())
    response = api.call("POST", "/v1/faq", RETURNS, token=admin)
    assert response.status_code == 409 and error_of(response)["code"] == "limit_reached"
    assert without_rate_limits(all_items()) == before

    seen, cursor = [], None
    while True:
        page = api.call("GET", "/v1/faq" + (f"?cursor={cursor}" if cursor else ""), token=admin).json_body
        assert len(page["items"]) <= 100
        seen += [e["faq_id"] for e in page["items"]]
        if not (cursor := page["next_cursor"]):
            break
    assert seen == sorted(ids)

    # Deleting one makes room for one.
    assert api.call("DELETE", f"/v1/faq/{ids[0]}", token=admin).status_code == 200
    created(api, admin, "/v1/faq", RETURNS)
    assert api.call("POST", "/v1/faq", SHIPPING, token=admin).status_code == 409
    assert faq_count(tenant["tenant_id"]) == 200


def test_match_preview_and_the_bots_answer(api: Api, tenant: dict, other_admin: str):
    admin = tenant["admin_token"]
    returns = created(api, admin, "/v1/faq", RETURNS)
    shipping = created(api, admin, "/v1/faq", SHIPPING)

    preview = api.call("GET", "/v1/faq/match?q=How%20long%20does%20delivery%20take%3F", token=admin).json_body
    assert preview["answer_faq_id"] == shipping["faq_id"]
    assert preview["threshold"] == 0.6
    assert preview["matches"][0] == {"faq_id": shipping["faq_id"], "question": SHIPPING["question"],
                                     "score": preview["matches"][0]["score"], "confidence": 1.0}
    stranger = api.call("GET", "/v1/faq/match?q=do%20you%20sell%20cars", token=admin).json_body
    assert stranger == {"threshold": 0.6, "answer_faq_id": None, "handoff_phrase": None, "matches": []}

    phrases = list(DEFAULT_HANDOFF_PHRASES)
    assert bot.answer_for(tenant["tenant_id"], "Can I get a refund?", phrases) == (returns["faq_id"], RETURNS["answer"])
    assert bot.answer_for(tenant["tenant_id"], "Can I get a refund? Or a human?", phrases) is None
    assert bot.answer_for(tenant["tenant_id"], "hi there", phrases) is None
    # Another tenant's FAQ is invisible to its bot and its preview.
    other_tenant = api.call("GET", "/v1/me", token=other_admin).json_body["tenant_id"]
    assert bot.answer_for(other_tenant, "Can I get a refund?", phrases) is None
    assert api.call("GET", "/v1/faq/match?q=refund", token=other_admin).json_body["matches"] == []


BAD_FAQ_BODIES = [
    ("{not json", "body"),
    ("[1, 2]", "body"),
    (json.dumps({"answer": "a"}), "question"),
    (json.dumps({"question": 7, "answer": "a"}), "question"),
    (json.dumps({"question": "   ", "answer": "a"}), "question"),
    (json.dumps({"question": "q" * 301, "answer": "a"}), "question"),
    (json.dumps({"question": "q", "answer": "a" * 2001}), "answer"),
    (json.dumps({"question": "q", "answer": "a", "keywords": "refund"}), "keywords"),
    (json.dumps({"question": "q", "answer": "a", "keywords": ["k"] * 21}), "keywords"),
    (json.dumps({"question": "q", "answer": "a", "keywords": ["k" * 51]}), "keywords.0"),
    (json.dumps({"question": "q", "answer": "a", "keywords": [3]}), "keywords.0"),
    (json.dumps({"question": "q", "answer": "a", "priority": 1}), "priority"),
]


def test_bad_faq_input_is_400_naming_the_field_and_writes_nothing(api: Api, tenant: dict):
    admin = tenant["admin_token"]
    entry = created(api, admin, "/v1/faq", RETURNS)
    before = without_rate_limits(all_items())
    for raw, field in BAD_FAQ_BODIES:
        for method, path in (("POST", "/v1/faq"), ("PUT", f"/v1/faq/{entry['faq_id']}")):
            response = api.call(method, path, raw=raw, token=admin)
            assert response.status_code == 400, (method, raw)
            assert error_of(response)["message"].startswith(field), (method, raw, response.json_body)
    for query, field in (("", "q"), ("?q=", "q"), ("?q=" + "x" * 4001, "q"), ("?q=refund&limit=3", "limit")):
        response = api.call("GET", "/v1/faq/match" + query, token=admin)
        assert response.status_code == 400 and error_of(response)["message"].startswith(field), query
    response = api.call("GET", f"/v1/faq?cursor={forged_cursor('faq_id')}", token=admin)
    assert response.status_code == 400 and error_of(response)["message"].startswith("cursor")
    assert without_rate_limits(all_items()) == before


def test_only_admins_touch_the_faq(api: Api, tenant: dict, staff: dict):
    entry = created(api, tenant["admin_token"], "/v1/faq", RETURNS)
    routes = [("POST", "/v1/faq", SHIPPING), ("GET", "/v1/faq", None), ("GET", "/v1/faq/match?q=refund", None),
              ("PUT", f"/v1/faq/{entry['faq_id']}", SHIPPING), ("DELETE", f"/v1/faq/{entry['faq_id']}", None)]
    before = without_rate_limits(all_items())
    for method, path, body in routes:
        for who, token in staff.items():
            response = api.call(method, path, body, token=token)
            assert response.status_code == 403, (method, path, who)
            assert error_of(response)["code"] == "forbidden"
        assert api.call(method, path, body).status_code == 401
    assert without_rate_limits(all_items()) == before


def test_another_tenants_faq_is_404_and_unchanged(api: Api, tenant: dict, other_admin: str):
    entry = created(api, tenant["admin_token"], "/v1/faq", RETURNS)
    before = without_rate_limits(all_items())
    for method, body in (("PUT", SHIPPING), ("DELETE", None)):
        response = api.call(method, f"/v1/faq/{entry['faq_id']}", body, token=other_admin)
        assert response.status_code == 404 and error_of(response)["code"] == "not_found", method
    assert without_rate_limits(all_items()) == before
    assert api.call("GET", "/v1/faq", token=other_admin).json_body["items"] == []


# --- Canned responses -----------------------------------------------------------------------
def test_canned_response_lifecycle(api: Api, tenant: dict, staff: dict):
    admin = tenant["admin_token"]
    refund = created(api, admin, "/v1/canned-responses", {"shortcut": "/refund", "text": "Refunds take 5 days."})
    assert refund["canned_id"] == refund["shortcut"] == "refund"
    created(api, admin, "/v1/canned-responses", {"shortcut": "greet", "text": "Hello! How can I help?"})
    created(api, admin, "/v1/canned-responses", {"shortcut": "bye_2", "text": "Goodbye."})
    [stored] = [i for i in all_items()[CANNED_TABLE] if i["shortcut"]["S"] == "refund"]
    assert stored["tenant_id"]["S"] == tenant["tenant_id"]

    # Every staff role reads them, sorted by shortcut.
    for token in (admin, staff["agent"], staff["supervisor"], staff["compliance"]):
        listed = api.call("GET", "/v1/canned-responses", token=token)
        assert listed.status_code == 200
        assert [i["shortcut"] for i in listed.json_body["items"]] == ["bye_2", "greet", "refund"]

    # PUT with the same shortcut changes the text; with another it renames (the id follows).
    edited = api.call("PUT", "/v1/canned-responses/refund", {"shortcut": "refund", "text": "Refunds: 3 days."},
                      token=admin).json_body
    assert edited["text"] == "Refunds: 3 days." and edited["created_at"] == refund["created_at"]
    renamed = api.call("PUT", "/v1/canned-responses/refund", {"shortcut": "/refunds", "text": "Refunds: 3 days."},
                       token=admin)
    assert renamed.status_code == 200 and renamed.json_body["canned_id"] == "refunds"
    assert renamed.json_body["created_at"] == refund["created_at"]
    assert api.call("PUT", "/v1/canned-responses/refund", {"shortcut": "refund", "text": "x"},
                    token=admin).status_code == 404

    assert api.call("DELETE", "/v1/canned-responses/refunds", token=admin).status_code == 204
    assert api.call("DELETE", "/v1/canned-responses/refunds", token=admin).status_code == 404
    listed = api.call("GET", "/v1/canned-responses", token=admin).json_body
    assert [i["canned_id"] for i in listed["items"]] == ["bye_2", "greet"] and listed["next_cursor"] is None


def test_a_shortcut_is_unique_per_tenant(api: Api, tenant: dict, other_admin: str):
    admin = tenant["admin_token"]
    created(api, admin, "/v1/canned-responses", {"shortcut": "refund", "text": "A"})
    created(api, admin, "/v1/canned-responses", {"shortcut": "greet", "text": "B"})
    before = without_rate_limits(all_items())
    for method, path in (("POST", "/v1/canned-responses"), ("PUT", "/v1/canned-responses/greet")):
        response = api.call(method, path, {"shortcut": "/refund", "text": "C"}, token=admin)
        assert response.status_code == 409, method
        assert error_of(response)["code"] == "shortcut_taken"
    assert without_rate_limits(all_items()) == before
    # Another tenant has its own shortcuts.
    created(api, other_admin, "/v1/canned-responses", {"shortcut": "refund", "text": "Theirs"})


BAD_CANNED_BODIES = [
    ("{not json", "body"),
    (json.dumps({"text": "t"}), "shortcut"),
    (json.dumps({"shortcut": 7, "text": "t"}), "shortcut"),
    (json.dumps({"shortcut": "Refund", "text": "t"}), "shortcut"),
    (json.dumps({"shortcut": "/", "text": "t"}), "shortcut"),
    (json.dumps({"shortcut": "//refund", "text": "t"}), "shortcut"),
    (json.dumps({"shortcut": "-refund", "text": "t"}), "shortcut"),
    (json.dumps({"shortcut": "re fund", "text": "t"}), "shortcut"),
    (json.dumps({"shortcut": "r" * 33, "text": "t"}), "shortcut"),
    (json.dumps({"shortcut": "refund"}), "text"),
    (json.dumps({"shortcut": "refund", "text": ""}), "text"),
    (json.dumps({"shortcut": "refund", "text": "t" * 2001}), "text"),
    (json.dumps({"shortcut": "refund", "text": "t", "team": "sales"}), "team"),
]


def test_bad_canned_input_is_400_naming_the_field_and_writes_nothing(api: Api, tenant: dict):
    admin = tenant["admin_token"]
    created(api, admin, "/v1/canned-responses", {"shortcut": "greet", "text": "Hello!"})
    before = without_rate_limits(all_items())
    for raw, field in BAD_CANNED_BODIES:
        for method, path in (("POST", "/v1/canned-responses"), ("PUT", "/v1/canned-responses/greet")):
            response = api.call(method, path, raw=raw, token=admin)
            assert response.status_code == 400, (method, raw)
            assert error_of(response)["message"].startswith(field), (method, raw, response.json_body)
    response = api.call("GET", f"/v1/canned-responses?cursor={forged_cursor('shortcut')}", token=admin)
    assert response.status_code == 400 and error_of(response)["message"].startswith("cursor")
    assert without_rate_limits(all_items()) == before
    # The longest shortcut the pattern allows is fine.
    created(api, admin, "/v1/canned-responses", {"shortcut": "/" + "r" * 32, "text": "t"})


def test_only_admins_change_canned_responses(api: Api, tenant: dict, staff: dict):
    created(api, tenant["admin_token"], "/v1/canned-responses", {"shortcut": "greet", "text": "Hello!"})
    writes = [("POST", "/v1/canned-responses", {"shortcut": "bye", "text": "Bye"}),
              ("PUT", "/v1/canned-responses/greet", {"shortcut": "greet", "text": "Hi"}),
              ("DELETE", "/v1/canned-responses/greet", None)]
    before = without_rate_limits(all_items())
    for method, path, body in writes:
        for who, token in staff.items():
            response = api.call(method, path, body, token=token)
            assert response.status_code == 403, (method, who)
            assert error_of(response)["code"] == "forbidden"
    assert api.call("GET", "/v1/canned-responses", token=staff["visitor"]).status_code == 403
    assert api.call("GET", "/v1/canned-responses").status_code == 401
    assert without_rate_limits(all_items()) == before


def test_another_tenants_canned_response_is_404_and_unchanged(api: Api, tenant: dict, other_admin: str):
    created(api, tenant["admin_token"], "/v1/canned-responses", {"shortcut": "greet", "text": "Hello!"})
    before = without_rate_limits(all_items())
    for method, body in (("PUT", {"shortcut": "greet", "text": "pwned"}),
                         ("PUT", {"shortcut": "renamed", "text": "pwned"}), ("DELETE", None)):
        response = api.call(method, "/v1/canned-responses/greet", body, token=other_admin)
        assert response.status_code == 404 and error_of(response)["code"] == "not_found", (method, body)
    assert without_rate_limits(all_items()) == before
    assert api.call("GET", "/v1/canned-responses", token=other_admin).json_body["items"] == []
