"""The conversation workspace over REST: filters, labels, private notes, search and routing reasons."""
from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from urllib.parse import urlencode

import pytest

from chalicelib.access.principals import Principal
from chalicelib.clock import iso
from chalicelib.conversations import listing, schemas, workspace
from chalicelib.errors import Conflict
from chalicelib.runtime import runtime
from chalicelib.storage.conversations import ConversationModel
from devstack.harness import Api, Party, agent, frames_sent, visitor
from tests.helpers import agent_id_of, all_items, audit_events, error_of


def opened(api: Api, tenant: dict, text: str = "hello", **profile) -> tuple[Party, str]:
    """A visitor who wrote once, and their conversation's id."""
    person = visitor(api, tenant, **profile)
    person.send(action="message.send", client_msg_id="v1", text=text)
    return person, frames_sent(person.connection_id)[0]["conversation_id"]


def get(api: Api, token: str, path: str, **query) -> dict:
    response = api.call("GET", f"{path}?{urlencode(query)}" if query else path, token=token)
    assert response.status_code == 200, response.body
    return response.json_body


def ids(page: dict) -> set[str]:
    return {item["conversation_id"] for item in page["items"]}


def label(api: Api, token: str, conversation_id: str, labels: list[str], version: int):
    return api.call("PATCH", f"/v1/conversations/{conversation_id}", {"labels": labels, "labels_version": version},
                    token=token)


@pytest.fixture
def desk(api: Api, tenant: dict, clock):
    """Sam (any team) and Kim (sales) online; Vera's sales chat went to Kim, Vic's to Sam and was
    closed; three days later Wes opened one that waits for a free agent (both are full)."""
    kim = agent(api, tenant, "kim@acme.com", teams=["sales"], max_concurrent=1)
    kim.send(action="presence.set", status="online")
    vera, sales_id = opened(api, tenant, name="Vera Chen", team="sales", email="vera@example.com")
    sam = agent(api, tenant, "sam@acme.com", max_concurrent=1)
    sam.send(action="presence.set", status="online")
    _, closed_id = opened(api, tenant, "我想退货，怎么办？", name="Vic")
    sam.send(action="conversation.close", conversation_id=closed_id, resolution="resolved")
    clock.advance(3 * 86400)
    tenant["admin_token"] = api.login(tenant["tenant_id"], "admin@acme.com")  # the first has expired
    _, waiting_id = opened(api, tenant, name="Wes")  # Sam took it: he was free again
    _, queued_id = opened(api, tenant, name="Quinn")
    return {"sales": sales_id, "vera": vera, "closed": closed_id, "waiting": waiting_id, "queued": queued_id,
            "sam": sam,
            "kim_token": api.login(tenant["tenant_id"], "kim@acme.com"),
            "sam_token": api.login(tenant["tenant_id"], "sam@acme.com")}


# --- Filters -----------------------------------------------------------------------------------------
def test_each_filter_narrows_the_list(api: Api, tenant: dict, desk: dict, clock):
    admin = tenant["admin_token"]
    every = get(api, admin, "/v1/conversations")
    assert ids(every) == {desk["sales"], desk["closed"], desk["waiting"], desk["queued"]}
    assert [i["conversation_id"] for i in every["items"]][0] == desk["queued"]  # newest first
    row = next(i for i in every["items"] if i["conversation_id"] == desk["sales"])
    assert (row["visitor_name"], row["visitor_email"], row["agent_name"], row["channel"], row["labels"]) == (
        "Vera Chen", "vera@example.com", "Kim", "web", [])
    assert ids(get(api, admin, "/v1/conversations", status="closed")) == {desk["closed"]}
    assert ids(get(api, admin, "/v1/conversations", status="queued")) == {desk["queued"]}
    sam_id = agent_id_of(tenant, "sam@acme.com")
    assert ids(get(api, admin, "/v1/conversations", agent_id=sam_id)) == {desk["closed"], desk["waiting"]}
    assert ids(get(api, admin, "/v1/conversations", team="sales")) == {desk["sales"]}
    assert ids(get(api, admin, "/v1/conversations", team="*")) == {desk["closed"], desk["waiting"], desk["queued"]}
    assert len(ids(get(api, admin, "/v1/conversations", channel="web"))) == 4
    assert ids(get(api, admin, "/v1/conversations", channel="email")) == set()
    later = iso(runtime().clock.utcnow() - timedelta(days=1))
    assert ids(get(api, admin, "/v1/conversations", **{"from": later})) == {desk["waiting"], desk["queued"]}
    assert ids(get(api, admin, "/v1/conversations", to=later)) == {desk["sales"], desk["closed"]}
    # On the agent-index the date is the range key: the same answers.
    assert ids(get(api, admin, "/v1/conversations", agent_id=sam_id, **{"from": later})) == {desk["waiting"]}
    assert ids(get(api, admin, "/v1/conversations", agent_id=sam_id, to=later)) == {desk["closed"]}
    assert ids(get(api, admin, "/v1/conversations", agent_id=sam_id, status="closed", to=later)) == {desk["closed"]}


def test_the_tag_filter_finds_labels_and_visitor_tags(api: Api, tenant: dict, desk: dict):
    admin = tenant["admin_token"]
    assert label(api, admin, desk["sales"], ["退货"], 0).status_code == 200
    vic_id = ConversationModel.get(tenant["tenant_id"], desk["closed"]).visitor_id
    assert api.call("PATCH", f"/v1/visitors/{vic_id}", {"tags": ["VIP"]}, token=admin).status_code == 200
    assert ids(get(api, admin, "/v1/conversations", tag="退货")) == {desk["sales"]}
    assert ids(get(api, admin, "/v1/conversations", tag="ｖｉｐ")) == {desk["closed"]}  # folded like a label


def test_agents_see_only_their_own_whatever_they_ask(api: Api, tenant: dict, desk: dict):
    kim = desk["kim_token"]
    assert ids(get(api, kim, "/v1/conversations")) == {desk["sales"]}
    assert ids(get(api, kim, "/v1/conversations", agent_id=agent_id_of(tenant, "sam@acme.com"))) == {desk["sales"]}
    assert api.call("GET", f"/v1/conversations/{desk['closed']}/routing", token=kim).status_code == 404


@pytest.mark.parametrize("query", [{"status": "open"}, {"channel": "fax"}, {"team": "a#b"}, {"tag": "a,b"},
                                   {"tag": "x" * 40}, {"from": "yesterday"}, {"from": "2026-01-02T00:00:00Z",
                                                                              "to": "2026-01-01T00:00:00Z"},
                                   {"colour": "red"}, {"cursor": "bm90LWEtY3Vyc29y"}])
def test_bad_filters_are_400(api: Api, tenant: dict, query: dict):
    response = api.call("GET", f"/v1/conversations?{urlencode(query)}", token=tenant["admin_token"])
    assert response.status_code == 400, (query, response.body)
    assert api.call("GET", f"/v1/conversations/search?{urlencode({'q': 'x', **query})}",
                    token=tenant["admin_token"]).status_code == 400


def test_a_filtered_page_reads_one_bounded_query(api: Api, tenant: dict, desk: dict, monkeypatch):
    monkeypatch.setattr(listing, "LIST_PAGE", 2)
    admin, seen, cursor = tenant["admin_token"], set(), None
    for _ in range(3):
        page = get(api, admin, "/v1/conversations", status="assigned", **({"cursor": cursor} if cursor else {}))
        assert page["evaluated"] <= 2
        seen |= ids(page)
        cursor = page["next_cursor"]
        if not cursor:
            break
    assert seen == {desk["sales"], desk["waiting"]}


# --- Labels ------------------------------------------------------------------------------------------
def test_labels_are_folded_bounded_and_audited(api: Api, tenant: dict, desk: dict):
    kim = desk["kim_token"]
    response = label(api, kim, desk["sales"], ["ＶＩＰ", "vip", " 退货  问题 ", "Billing"], 0)
    assert response.status_code == 200, response.body
    assert response.json_body["labels"] == ["vip", "退货 问题", "billing"]
    assert response.json_body["labels_version"] == 1
    assert get(api, kim, f"/v1/conversations/{desk['sales']}")["labels"] == ["vip", "退货 问题", "billing"]
    for bad in (["x" * 33], ["a#b"], [""], [f"l{n}" for n in range(21)], "vip"):
        assert label(api, kim, desk["sales"], bad, 1).status_code == 400, bad
    [event] = audit_events(tenant["tenant_id"], "conversation.labelled")
    assert event["target"] == desk["sales"] and event["details"] == {"added": 3, "removed": 0, "labels_version": 1}
    assert "退货" not in json.dumps(audit_events(tenant["tenant_id"]), ensure_ascii=False)
    # Compliance reads, never writes; an agent only their own; another tenant nothing.
    api.add_agent(tenant["admin_token"], "comp@acme.com", role="compliance")
    compliance = api.login(tenant["tenant_id"], "comp@acme.com")
    assert label(api, compliance, desk["sales"], ["x"], 1).status_code == 403
    assert label(api, desk["sam_token"], desk["sales"], ["x"], 1).status_code == 404
    other = signed_up_other(api)
    assert label(api, other["admin_token"], desk["sales"], ["x"], 1).status_code == 404


def signed_up_other(api: Api) -> dict:
    signed = api.signup(name="Other", email="admin@other.com")
    signed["admin_token"] = api.login(signed["tenant_id"], "admin@other.com")
    return signed


def test_a_stale_label_edit_is_refused_not_lost(api: Api, tenant: dict, desk: dict):
    admin = tenant["admin_token"]
    assert label(api, admin, desk["sales"], ["a"], 0).status_code == 200
    refused = label(api, desk["kim_token"], desk["sales"], ["b"], 0)
    assert refused.status_code == 409 and error_of(refused)["code"] == "labels_changed"
    assert get(api, admin, f"/v1/conversations/{desk['sales']}")["labels"] == ["a"]


def test_two_label_edits_racing_from_one_read_one_wins(tenant: dict, desk: dict, monkeypatch):
    """Both read version 0; the second writes after the first: its condition refuses it cleanly."""
    boss = Principal("agent", tenant["tenant_id"], agent_id_of(tenant, "admin@acme.com"), role="admin")
    read = workspace.get_conversation
    racing = {"done": False}

    def read_then_lose_the_race(principal: Principal, conversation_id: str) -> ConversationModel:
        conversation = read(principal, conversation_id)
        if not racing["done"]:
            racing["done"] = True
            first = schemas.ConversationPatch(labels=["first"], labels_version=0)
            workspace.set_labels(principal, conversation_id, first)
        return conversation

    monkeypatch.setattr(workspace, "get_conversation", read_then_lose_the_race)
    with pytest.raises(Conflict) as lost:
        workspace.set_labels(boss, desk["sales"], schemas.ConversationPatch(labels=["second"], labels_version=0))
    assert lost.value.code == "labels_changed"
    stored = ConversationModel.get(tenant["tenant_id"], desk["sales"])
    assert (stored.labels, int(stored.labels_version)) == (["first"], 1)
    assert len(audit_events(tenant["tenant_id"], "conversation.labelled")) == 1


def test_concurrent_label_edits_of_one_version_exactly_one_wins(tenant: dict, desk: dict):
    boss = Principal("agent", tenant["tenant_id"], agent_id_of(tenant, "admin@acme.com"), role="admin")

    def edit(n: int) -> str:
        try:
            workspace.set_labels(boss, desk["sales"], schemas.ConversationPatch(labels=[f"l{n}"], labels_version=0))
            return "won"
        except Conflict as refused:
            return refused.code

    with ThreadPoolExecutor(6) as pool:
        outcomes = list(pool.map(edit, range(6)))
    assert sorted(outcomes) == ["labels_changed"] * 5 + ["won"]
    assert int(ConversationModel.get(tenant["tenant_id"], desk["sales"]).labels_version) == 1


# --- Notes -------------------------------------------------------------------------------------------
def test_private_notes_are_sealed_staff_only_and_audited(api: Api, tenant: dict, desk: dict):
    kim, secret = desk["kim_token"], "客户说他的订单号是 A-778899"
    response = api.call("POST", f"/v1/conversations/{desk['sales']}/notes", {"text": secret}, token=kim)
    assert response.status_code == 201, response.body
    note = response.json_body
    kim_id = agent_id_of(tenant, "kim@acme.com")
    assert (note["text"], note["author_name"], note["author_id"]) == (secret, "Kim", kim_id)
    assert "A-778899" not in json.dumps(all_items(), default=repr, ensure_ascii=False)  # sealed at rest
    assert "A-778899" not in json.dumps(frames_sent(desk["vera"].connection_id), ensure_ascii=False)
    assert [n["text"] for n in get(api, kim, f"/v1/conversations/{desk['sales']}/notes")["items"]] == [secret]
    [added] = audit_events(tenant["tenant_id"], "conversation.note_added")
    assert added["details"] == {"note_id": note["note_id"]}
    assert audit_events(tenant["tenant_id"], "conversation.notes_read") == []  # its own agent: not audited
    api.add_agent(tenant["admin_token"], "comp@acme.com", role="compliance")
    compliance = api.login(tenant["tenant_id"], "comp@acme.com")
    assert [n["text"] for n in get(api, compliance, f"/v1/conversations/{desk['sales']}/notes")["items"]] == [secret]
    assert len(audit_events(tenant["tenant_id"], "conversation.notes_read")) == 1
    assert api.call("POST", f"/v1/conversations/{desk['sales']}/notes", {"text": "x"},
                    token=compliance).status_code == 403
    assert api.call("POST", f"/v1/conversations/{desk['sales']}/notes", {"text": "x"},
                    token=desk["sam_token"]).status_code == 404
    for bad in ({"text": ""}, {"text": "x" * 2001}, {"text": 5}, {}):
        assert api.call("POST", f"/v1/conversations/{desk['sales']}/notes", bad, token=kim).status_code == 400
    other = signed_up_other(api)
    assert api.call("GET", f"/v1/conversations/{desk['sales']}/notes", token=other["admin_token"]).status_code == 404


def test_notes_are_bounded_per_conversation(api: Api, tenant: dict, desk: dict, monkeypatch):
    monkeypatch.setattr(workspace, "MAX_NOTES", 2)
    path = f"/v1/conversations/{desk['sales']}/notes"
    assert [api.call("POST", path, {"text": f"n{n}"}, token=desk["kim_token"]).status_code for n in range(3)] == [
        201, 201, 409]
    assert len(get(api, desk["kim_token"], path)["items"]) == 2


def test_an_erased_visitors_notes_are_redacted_and_labels_gone(api: Api, tenant: dict, desk: dict):
    path = f"/v1/conversations/{desk['closed']}/notes"
    assert api.call("POST", path, {"text": "called back"}, token=tenant["admin_token"]).status_code == 201
    assert label(api, tenant["admin_token"], desk["closed"], ["mr smith"], 0).status_code == 200
    visitor_id = ConversationModel.get(tenant["tenant_id"], desk["closed"]).visitor_id
    assert api.call("DELETE", f"/v1/visitors/{visitor_id}", token=tenant["admin_token"]).status_code == 202
    [note] = get(api, tenant["admin_token"], path)["items"]
    assert note["text"] is None and note["redacted"]
    refused = api.call("POST", path, {"text": "more"}, token=tenant["admin_token"])
    assert refused.status_code == 409 and error_of(refused)["code"] == "conversation_shredded"
    after = get(api, tenant["admin_token"], f"/v1/conversations/{desk['closed']}")
    assert (after["labels"], after["labels_version"]) == ([], 2)


# --- Search ------------------------------------------------------------------------------------------
def test_search_metadata_first_then_text_without_spaces(api: Api, tenant: dict, desk: dict):
    admin = tenant["admin_token"]
    label(api, admin, desk["sales"], ["投诉"], 0)
    assert ids(get(api, admin, "/v1/conversations/search", q="vera")) == {desk["sales"]}
    assert ids(get(api, admin, "/v1/conversations/search", q="VERA@example")) == {desk["sales"]}
    assert ids(get(api, admin, "/v1/conversations/search", q="投诉")) == {desk["sales"]}
    hit = get(api, admin, "/v1/conversations/search", q="kim vera")["items"][0]
    assert set(hit["matched"]) == {"visitor", "agent"}
    # Message text only with text=true: Chinese found without spaces, a snippet shown.
    assert ids(get(api, admin, "/v1/conversations/search", q="退货")) == set()
    assert audit_events(tenant["tenant_id"], "transcript.read") == []
    found = get(api, admin, "/v1/conversations/search", q="退货", text="true")
    assert ids(found) == {desk["closed"]}
    assert found["items"][0]["matched"] == ["text"] and "我想退货" in found["items"][0]["snippet"]
    read = audit_events(tenant["tenant_id"], "transcript.read")
    assert {e["target"] for e in read} == {desk["sales"], desk["closed"], desk["waiting"], desk["queued"]}
    assert all(e["details"]["search"] is True for e in read)
    assert found["text_searched"] == 4
    # Words may be split between metadata and text: both must be found.
    assert ids(get(api, admin, "/v1/conversations/search", q="vic 退货", text="true")) == {desk["closed"]}
    assert ids(get(api, admin, "/v1/conversations/search", q="vic 换货", text="true")) == set()


def test_text_search_reads_a_bounded_range_audited_even_for_agents(api: Api, tenant: dict, desk: dict, monkeypatch):
    monkeypatch.setattr(listing, "TEXT_SEARCH_PAGE", 1)
    sam = desk["sam_token"]
    first = get(api, sam, "/v1/conversations/search", q="退货", text="true")
    assert first["evaluated"] == 1 and first["text_searched"] == 1 and first["next_cursor"]
    assert ids(first) == set()  # his newest one: no match yet
    second = get(api, sam, "/v1/conversations/search", q="退货", text="true", cursor=first["next_cursor"])
    assert ids(second) == {desk["closed"]}
    read = audit_events(tenant["tenant_id"], "transcript.read")
    assert [e["target"] for e in read] == [desk["waiting"], desk["closed"]]
    assert {e["actor"]["id"] for e in read} == {agent_id_of(tenant, "sam@acme.com")}


def test_search_never_reaches_another_tenant(api: Api, tenant: dict, desk: dict):
    other = signed_up_other(api)
    assert get(api, other["admin_token"], "/v1/conversations/search", q="vera", text="true")["items"] == []
    assert api.call("GET", f"/v1/conversations/{desk['sales']}", token=other["admin_token"]).status_code == 404
    assert api.call("GET", f"/v1/conversations/{desk['sales']}/routing",
                    token=other["admin_token"]).status_code == 404
    assert audit_events(other["tenant_id"], "transcript.read") == []


# --- Routing reasons ---------------------------------------------------------------------------------
def routing(api: Api, tenant: dict, conversation_id: str) -> list[tuple]:
    items = get(api, tenant["admin_token"], f"/v1/conversations/{conversation_id}/routing")["items"]
    return [(d["event"], d["reason"], d["agent_id"], d["from_agent_id"], d["team"]) for d in items]


def test_routing_reasons_queue_capacity_and_team(api: Api, tenant: dict, desk: dict):
    kim_id, sam_id = agent_id_of(tenant, "kim@acme.com"), agent_id_of(tenant, "sam@acme.com")
    assert routing(api, tenant, desk["sales"]) == [("queued", "new_conversation", None, None, "sales"),
                                                   ("assigned", "least_loaded", kim_id, None, "sales")]
    items = get(api, tenant["admin_token"], f"/v1/conversations/{desk['sales']}/routing")["items"]
    assert (items[1]["load"], items[1]["capacity"]) == (1, 1)
    assert routing(api, tenant, desk["queued"]) == [("queued", "new_conversation", None, None, None)]
    # Sam closes Wes's chat: his room goes to the one that waited.
    desk["sam"].send(action="conversation.close", conversation_id=desk["waiting"], resolution="resolved")
    assert routing(api, tenant, desk["queued"])[-1] == ("assigned", "capacity_freed", sam_id, None, None)


def test_routing_reasons_of_the_bot(api: Api, tenant: dict):
    faq = {"question": "What is your returns policy?", "answer": "30 days.", "keywords": ["refund", "return"]}
    assert api.call("POST", "/v1/faq", faq, token=tenant["admin_token"]).status_code == 201
    _, asked = opened(api, tenant, "I want a human")
    _, unanswered = opened(api, tenant, "do you sell cars?")
    assert routing(api, tenant, asked) == [("bot", "faq_bot", None, None, None),
                                           ("queued", "asked_for_person", None, None, None)]
    assert routing(api, tenant, unanswered)[-1] == ("queued", "bot_had_no_answer", None, None, None)


def test_routing_reasons_of_transfers_escalation_and_reroutes(api: Api, tenant: dict, clock):
    sam = agent(api, tenant, "sam@acme.com", tier=1)
    sam.send(action="presence.set", status="online")
    kim = agent(api, tenant, "kim@acme.com", tier=1)
    kim.send(action="presence.set", status="online")
    sam_id, kim_id = agent_id_of(tenant, "sam@acme.com"), agent_id_of(tenant, "kim@acme.com")
    _, chat = opened(api, tenant)
    sam_holds = ConversationModel.get(tenant["tenant_id"], chat).agent_id == sam_id
    holder, other = (sam, kim_id) if sam_holds else (kim, sam_id)
    holder_id = sam_id if holder is sam else kim_id
    holder.send(action="conversation.transfer", conversation_id=chat, to_agent_id=other)
    assert routing(api, tenant, chat)[-1] == ("transferred", "to_agent", other, holder_id, None)
    target = kim if other == kim_id else sam
    target.send(action="conversation.transfer", conversation_id=chat, to_team="billing")
    assert routing(api, tenant, chat)[-1] == ("transferred", "to_team", None, other, "billing")

    _, escalated = opened(api, tenant)
    taker = ConversationModel.get(tenant["tenant_id"], escalated).agent_id
    (sam if taker == sam_id else kim).send(action="conversation.escalate", conversation_id=escalated)
    assert routing(api, tenant, escalated)[-1] == ("escalated", "next_tier", None, taker, "tier:2")

    from tests.functional.test_conversations import run_reroute_stale

    _, silent = opened(api, tenant)
    silent_agent = ConversationModel.get(tenant["tenant_id"], silent).agent_id
    clock.advance(10 * 60)
    run_reroute_stale()
    decisions = routing(api, tenant, silent)
    assert ("rerouted", "no_first_reply", None, silent_agent, None) in decisions
    assert decisions[-1][:2] == ("assigned", "least_loaded")

    left_by = ConversationModel.get(tenant["tenant_id"], silent).agent_id
    api.call("DELETE", f"/v1/agents/{left_by}", token=tenant["admin_token"])
    assert ("rerouted", "agent_left", None, left_by, None) in routing(api, tenant, silent)


def test_routing_is_recorded_only_for_a_decision_that_won(tenant: dict, api: Api):
    """A lost assignment race writes no decision: the record is part of the transaction."""
    _, chat = opened(api, tenant)
    sam = agent(api, tenant, "sam@acme.com")
    sam.send(action="presence.set", status="online")
    decisions = routing(api, tenant, chat)
    assert [d[:2] for d in decisions] == [("queued", "new_conversation"), ("assigned", "capacity_freed")]
    from chalicelib.conversations import assignment
    from chalicelib.storage.agents import AgentModel

    conversation = ConversationModel.get(tenant["tenant_id"], chat)
    conversation.status = "queued"  # a stale read: it was assigned meanwhile
    kim = agent(api, tenant, "kim@acme.com")
    kim.send(action="presence.set", status="online")
    kim_record = AgentModel.get(tenant["tenant_id"], agent_id_of(tenant, "kim@acme.com"))
    assert assignment.assign(conversation, kim_record, assignment.tenant_settings(tenant["tenant_id"])) is None
    assert routing(api, tenant, chat) == decisions

