"""The Team screen's backend: who is online in the agent list, reactivation, and the races and roles
around them, through the Chalice handlers on moto."""
from __future__ import annotations

import pytest

from chalicelib.tenancy import agents
from devstack.harness import PASSWORD, Api, Party
from tests.helpers import audit_events, error_of

pytestmark = pytest.mark.frozen_clock


def listed(api: Api, token: str) -> dict[str, dict]:
    response = api.call("GET", "/v1/agents", token=token)
    assert response.status_code == 200, response.body
    return {item["email"]: item for item in response.json_body["items"]}


def test_the_list_shows_who_is_online_and_how_many_chats_they_hold(api: Api, tenant: dict):
    admin = tenant["admin_token"]
    api.add_agent(admin, "sam@acme.com")
    api.add_agent(admin, "kim@acme.com")
    sam = Party(api.login(tenant["tenant_id"], "sam@acme.com"))
    kim = Party(api.login(tenant["tenant_id"], "kim@acme.com"))
    assert {email: a["status"] for email, a in listed(api, admin).items()} == {
        "admin@acme.com": "offline", "sam@acme.com": "offline", "kim@acme.com": "offline"}

    sam.send(action="presence.set", status="online")
    kim.send(action="presence.set", status="away")
    now = listed(api, admin)
    assert (now["sam@acme.com"]["status"], now["kim@acme.com"]["status"]) == ("online", "away")
    assert now["sam@acme.com"]["load"] == 0

    # A deactivated agent is shown offline whatever they set last.
    kim_id = now["kim@acme.com"]["agent_id"]
    assert api.call("DELETE", f"/v1/agents/{kim_id}", token=admin).status_code == 204
    assert listed(api, admin)["kim@acme.com"]["status"] == "offline"


def test_reactivation_is_audited_and_lets_the_agent_sign_in_again(api: Api, tenant: dict):
    admin, t = tenant["admin_token"], tenant["tenant_id"]
    sam = api.add_agent(admin, "sam@acme.com")
    assert api.call("DELETE", f"/v1/agents/{sam['agent_id']}", token=admin).status_code == 204
    login = {"tenant_id": t, "email": "sam@acme.com", "password": PASSWORD}
    assert api.call("POST", "/v1/auth/login", login).status_code == 401

    back = api.call("PATCH", f"/v1/agents/{sam['agent_id']}", {"active": True, "tier": 2}, token=admin)
    assert back.status_code == 200 and back.json_body["active"] is True and back.json_body["tier"] == 2
    assert api.call("POST", "/v1/auth/login", login).status_code == 200
    [event] = audit_events(t, "agent.reactivated")
    assert event["target"] == sam["agent_id"] and event["details"] == {"fields": ["active", "tier"]}
    assert [e["target"] for e in audit_events(t, "agent.deactivated")] == [sam["agent_id"]]
    assert not audit_events(t, "agent.updated")


def test_a_reactivation_racing_another_loses_cleanly(api: Api, tenant: dict, monkeypatch):
    """Two admins reactivate at once: both read the agent inactive, one write wins, the other is a 409
    (the condition holds `active` as read), and there is one reactivation in the trail, not two."""
    admin, t = tenant["admin_token"], tenant["tenant_id"]
    sam = api.add_agent(admin, "sam@acme.com")
    assert api.call("DELETE", f"/v1/agents/{sam['agent_id']}", token=admin).status_code == 204
    real_transaction, raced = agents.transaction, []

    def another_admin_first():
        if not raced:
            raced.append(None)  # the other admin's own write goes straight through
            raced[0] = api.call("PATCH", f"/v1/agents/{sam['agent_id']}", {"active": True}, token=admin)
        return real_transaction()

    monkeypatch.setattr(agents, "transaction", another_admin_first)
    response = api.call("PATCH", f"/v1/agents/{sam['agent_id']}", {"active": True, "max_concurrent": 9},
                        token=admin)
    assert raced[0].status_code == 200
    assert response.status_code == 409 and error_of(response)["code"] == "conflict"
    assert len(audit_events(t, "agent.reactivated")) == 1
    assert listed(api, admin)["sam@acme.com"]["max_concurrent"] != 9  # nothing half-written


def test_a_deactivation_racing_another_is_done_once(api: Api, tenant: dict, monkeypatch):
    admin, t = tenant["admin_token"], tenant["tenant_id"]
    sam = api.add_agent(admin, "sam@acme.com")
    real_get, raced = agents.get_agent, []

    def read_then_another_admin_deactivates(tenant_id: str, agent_id: str):
        stale = real_get(tenant_id, agent_id)
        if not raced:
            raced.append(None)  # the other admin's own read goes straight through
            raced[0] = api.call("DELETE", f"/v1/agents/{agent_id}", token=admin)
        return stale

    monkeypatch.setattr(agents, "get_agent", read_then_another_admin_deactivates)
    assert api.call("DELETE", f"/v1/agents/{sam['agent_id']}", token=admin).status_code == 204
    assert raced[0].status_code == 204
    assert len(audit_events(t, "agent.deactivated")) == 1


@pytest.mark.parametrize("role", ["supervisor", "agent", "compliance"])
def test_only_an_admin_changes_the_team_or_the_settings(api: Api, tenant: dict, role: str):
    admin, t = tenant["admin_token"], tenant["tenant_id"]
    api.add_agent(admin, f"{role}@acme.com", role=role)
    sam = api.add_agent(admin, "sam@acme.com")
    assert api.call("DELETE", f"/v1/agents/{sam['agent_id']}", token=admin).status_code == 204
    token = api.login(t, f"{role}@acme.com")
    writes = [("POST", "/v1/agents", {"email": "new@acme.com", "name": "New", "password": PASSWORD, "role": "agent"}),
              ("PATCH", f"/v1/agents/{sam['agent_id']}", {"active": True}),
              ("PATCH", f"/v1/agents/{sam['agent_id']}", {"name": "Someone"}),
              ("DELETE", f"/v1/agents/{sam['agent_id']}", None),
              ("GET", "/v1/settings", None),
              ("PUT", "/v1/settings", {"business_hours": None})]
    for method, path, body in writes:
        response = api.call(method, path, body, token=token)
        assert response.status_code == 403, (method, path, response.status_code)
    # Supervisors see the team (and who is online); the others do not.
    assert api.call("GET", "/v1/agents", token=token).status_code == (200 if role == "supervisor" else 403)
    assert listed(api, admin)["sam@acme.com"]["active"] is False


def test_another_tenants_agent_is_not_found(api: Api, tenant: dict):
    other = api.signup("Other", "admin@other.com")
    other["admin_token"] = api.login(other["tenant_id"], "admin@other.com")
    theirs = api.add_agent(other["admin_token"], "sam@other.com")
    path = f"/v1/agents/{theirs['agent_id']}"
    assert api.call("DELETE", path, token=other["admin_token"]).status_code == 204
    for method, body in (("PATCH", {"active": True}), ("PATCH", {"name": "Mine now"}), ("DELETE", None)):
        response = api.call(method, path, body, token=tenant["admin_token"])
        assert response.status_code == 404, (method, body)
    assert listed(api, other["admin_token"])["sam@other.com"]["active"] is False
    assert "sam@other.com" not in listed(api, tenant["admin_token"])
