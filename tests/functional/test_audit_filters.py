"""GET /v1/audit/events filtered by action, actor and target: within the time range, page by page,
each page a bounded Query with a server-side filter; the pages together hold exactly the matches."""
from __future__ import annotations

from collections.abc import Iterator
from urllib.parse import urlencode

import pytest

from chalicelib.audit import queries
from chalicelib.audit.trail import record_event
from devstack.harness import Api
from tests.helpers import audit_events, module_tenant


def all_pages(api: Api, token: str, **query: str) -> tuple[list[dict], list[int]]:
    """Every event the filtered pages give, and each page's size."""
    events, sizes, cursor = [], [], None
    while True:
        params = {**query, **({"cursor": cursor} if cursor else {})}
        response = api.call("GET", "/v1/audit/events?" + urlencode(params), token=token)
        assert response.status_code == 200, response.body
        events += response.json_body["items"]
        sizes.append(len(response.json_body["items"]))
        cursor = response.json_body["next_cursor"]
        if not cursor:
            return events, sizes


@pytest.fixture(scope="module")
def busy(boto_session) -> Iterator[tuple[Api, dict, object]]:
    """A busy trail, built once for the module: 250 events of noise around a few of each kind, some
    far from one another."""
    with module_tenant(boto_session) as (api, tenant, clock):
        fill(tenant["tenant_id"])
        yield api, tenant, clock


@pytest.fixture
def api(busy) -> Api:
    return busy[0]


@pytest.fixture
def trail(busy) -> tuple[str, str]:
    api, tenant, _ = busy
    return tenant["tenant_id"], api.login(tenant["tenant_id"], "admin@acme.com")


def fill(t: str) -> None:
    record_event(t, {"kind": "agent", "id": "a_kim"}, "conversation.closed", "c_1", {})
    for n in range(250):
        if n in (5, 150, 240):
            record_event(t, {"kind": "agent", "id": "a_kim"}, "conversation.transferred", f"c_{n}", {})
        # An actor whose *kind* is someone's id: a naive match on the actor's JSON would take it.
        record_event(t, {"kind": "a_kim", "id": "noise"} if n % 2 else {"kind": "system", "id": "routing"},
                     "test.noise", "c_1" if n == 200 else f"n{n}", {})
    record_event(t, {"kind": "agent", "id": "a_kim"}, "conversation.closed", "c_2", {})


@pytest.mark.parametrize("query", [{"action": "conversation.closed"}, {"action": "conversation."},
                                   {"actor": "a_kim"}, {"target": "c_1"}, {"actor": "routing", "target": "n4"},
                                   {"actor": "a_kim", "action": "conversation.transferred"}])
def test_the_filtered_pages_hold_exactly_the_matching_events_in_seq_order(api: Api, trail, query: dict):
    t, token = trail
    events, sizes = all_pages(api, token, **query)

    def matches(event: dict) -> bool:
        action = query.get("action")
        return ((not action or (event["action"].startswith(action) if action.endswith(".")
                                else event["action"] == action))
                and query.get("actor", event["actor"]["id"]) == event["actor"]["id"]
                and query.get("target", event["target"]) == event["target"])

    expected = [event for event in audit_events(t) if matches(event)]
    assert expected and events == expected
    assert max(sizes) <= 100


def test_filters_keep_to_the_time_range(api: Api, trail, busy):
    t, token = trail
    clock = busy[2]
    clock.advance(120)
    record_event(t, {"kind": "agent", "id": "a_kim"}, "conversation.closed", "c_3", {})
    later = audit_events(t)[-1]["ts"]
    token = busy[0].login(t, "admin@acme.com")
    events, _ = all_pages(api, token, action="conversation.closed", **{"from": later})
    assert [event["target"] for event in events] == ["c_3"]
    events, _ = all_pages(api, token, action="conversation.closed", to=later)
    assert [event["target"] for event in events] == ["c_1", "c_2"]


def test_a_filter_reads_a_bounded_number_of_events_per_page(api: Api, trail, monkeypatch):
    _, token = trail
    monkeypatch.setattr(queries, "FILTERED_READS", 2)  # 200 events a request here (1,000 deployed)
    first = api.call("GET", "/v1/audit/events?action=no.such_action", token=token).json_body
    assert first["items"] == [] and first["next_cursor"]  # 200 events read, none matched: go on
    events, sizes = all_pages(api, token, action="no.such_action")
    assert events == [] and len(sizes) == 2


@pytest.mark.parametrize("bad", [{"action": "Conversation Closed"}, {"action": "conversation..closed"},
                                 {"action": "x" * 101}, {"actor": "a_kim\u0001"}, {"actor": ""},
                                 {"target": "t" * 201}, {"target": "c_\t1"}, {"verb": "closed"}])
def test_bad_filters_are_400(api: Api, trail, bad: dict):
    _, token = trail
    response = api.call("GET", "/v1/audit/events?" + urlencode(bad), token=token)
    assert response.status_code == 400, response.body
    assert response.json_body["error"]["code"] == "invalid_input"


def test_another_tenants_filters_see_only_its_own_events(api: Api, trail):
    other = api.signup(name="Other", email="boss@other.com")
    token = api.login(other["tenant_id"], "boss@other.com")
    for query in ({"actor": "a_kim"}, {"target": "c_1"}, {"action": "test.noise"}):
        assert all_pages(api, token, **query)[0] == []
