"""Agent sessions: logout ends one session (its tokens, refreshes and sockets), a session has an absolute
end no refresh passes, and deactivation, a role change or a password change ends every session at once:
tokens 401, sockets told `session.revoked` and closed, chats back to the queue and on to others."""
from __future__ import annotations

import json
from urllib.parse import quote

import pytest
from moto.apigatewaymanagementapi.models import ApiGatewayManagementApiBackend

from chalicelib.storage.agents import AgentModel
from chalicelib.storage.conversations import ConversationModel
from chalicelib.tenancy import revocation
from devstack.harness import PASSWORD, Api, Party, agent, frames_sent, run_job, visitor
from tests.helpers import agent_id_of, audit_events, use_limits


@pytest.fixture
def closed(monkeypatch) -> dict[str, list[dict]]:
    """Frames each connection had received when the server closed it (moto drops them on close)."""
    seen: dict[str, list[dict]] = {}
    delete = ApiGatewayManagementApiBackend.delete_connection

    def keep_then_delete(self, connection_id: str) -> None:
        if connection_id in self.connections:
            data, decoder, at, frames = self.connections[connection_id].data.decode(), json.JSONDecoder(), 0, []
            while at < len(data):
                frame, at = decoder.raw_decode(data, at)
                frames.append(frame)
            seen[connection_id] = frames
        delete(self, connection_id)

    monkeypatch.setattr(ApiGatewayManagementApiBackend, "delete_connection", keep_then_delete)
    return seen


def last_frame_before_close(closed: dict[str, list[dict]], party: Party) -> dict | None:
    frames = closed.get(quote(party.connection_id, safe=""))
    return frames[-1] if frames else None


def login(api: Api, tenant: dict, email: str) -> dict:
    response = api.call("POST", "/v1/auth/login", {"tenant_id": tenant["tenant_id"], "email": email,
                                                   "password": PASSWORD})
    assert response.status_code == 200, response.body
    return response.json_body


def status(api: Api, token: str, path: str = "/v1/me", method: str = "GET") -> int:
    return api.call(method, path, token=token).status_code


# --- Logout -------------------------------------------------------------------------------------------
def test_logout_ends_that_session_only(api: Api, tenant: dict, closed):
    api.add_agent(tenant["admin_token"], "sam@acme.com")
    first, second = login(api, tenant, "sam@acme.com"), login(api, tenant, "sam@acme.com")
    refreshed = api.call("POST", "/v1/auth/refresh", token=first["token"]).json_body["token"]
    first_tab, first_tab_again, second_tab = Party(first["token"]), Party(refreshed), Party(second["token"])

    assert api.call("POST", "/v1/auth/logout", token=first["token"]).status_code == 204
    # The session's tokens, its refreshed one too, stop working; so does refreshing or logging out again.
    for token in (first["token"], refreshed):
        assert status(api, token) == 401
        assert status(api, token, "/v1/auth/refresh", "POST") == 401
        assert status(api, token, "/v1/auth/logout", "POST") == 401
    with pytest.raises(AssertionError):  # its $connect is refused
        Party(refreshed)
    for tab in (first_tab, first_tab_again):
        assert last_frame_before_close(closed, tab) == {"type": "session.revoked", "reason": "logged_out"}
    # The other login (another tab or device) goes on, socket and all.
    assert status(api, second["token"]) == 200
    second_tab.send(action="ping")
    assert second_tab.new_frames() == [{"type": "pong"}]
    assert quote(second_tab.connection_id, safe="") not in closed
    [event] = audit_events(tenant["tenant_id"], "auth.logout")
    assert event["target"] == second["agent"]["agent_id"] and event["details"].keys() == {"session_id"}


def test_logout_needs_an_agent_session(api: Api, tenant: dict):
    response = api.call("POST", "/v1/auth/logout", token=tenant["api_key"])
    assert response.status_code == 403 and response.json_body["error"]["code"] == "forbidden"
    assert api.call("POST", "/v1/auth/logout").status_code == 401
    assert status(api, tenant["api_key"]) == 200


def test_logging_out_the_last_socket_hands_the_chats_back(api: Api, tenant: dict):
    api.add_agent(tenant["admin_token"], "sam@acme.com")
    token, other_login = api.login(tenant["tenant_id"], "sam@acme.com"), api.login(tenant["tenant_id"], "sam@acme.com")
    sam = Party(token)
    sam.send(action="presence.set", status="online")
    vera = visitor(api, tenant)
    vera.send(action="message.send", client_msg_id="v1", text="help")
    conversation_id = frames_sent(vera.connection_id)[0]["conversation_id"]
    kim = agent(api, tenant, "kim@acme.com")
    kim.send(action="presence.set", status="online")
    assert api.call("POST", "/v1/auth/logout", token=token).status_code == 204
    # As when an agent goes offline: reroute-stale hands the chat on at its next run.
    assert run_job("reroute-stale")["requeued_from_gone_agents"] == 1
    assert kim.of_type("conversation.assigned")[0]["conversation_id"] == conversation_id
    assert status(api, other_login) == 200  # the login without a socket is still a session


# --- The absolute end ---------------------------------------------------------------------------------
def test_refreshing_never_takes_a_session_past_its_absolute_end(api: Api, tenant: dict, clock):
    api.add_agent(tenant["admin_token"], "sam@acme.com")
    use_limits(agent_session_max_seconds=3 * 3600, agent_token_ttl_seconds=3600)
    logged_in = login(api, tenant, "sam@acme.com")
    end = logged_in["session_expires_at"]
    token = logged_in["token"]
    for _ in range(5):  # refresh every 50 minutes, as the console does
        clock.advance(50 * 60)
        response = api.call("POST", "/v1/auth/refresh", token=token)
        if response.status_code != 200:
            break
        token, body = response.json_body["token"], response.json_body
        assert body["session_expires_at"] == end and body["expires_at"] <= end
    assert response.status_code == 401  # at 4 h 10 min: past the 3-hour session
    assert status(api, token) == 401
    assert body["expires_at"] == end  # the last token issued ran out with the session, not an hour later
    assert login(api, tenant, "sam@acme.com")["session_expires_at"] > end  # a new login is a new session


def test_the_absolute_end_defaults_to_twelve_hours(api: Api, tenant: dict, clock):
    from datetime import datetime

    body = login(api, tenant, "admin@acme.com")
    ends = datetime.fromisoformat(body["session_expires_at"].replace("Z", "+00:00")).timestamp()
    assert abs(ends - clock.now() - 12 * 3600) <= 2


# --- Power taken away ends every session ----------------------------------------------------------------
CHANGES = {
    "deactivated": ("DELETE", None),
    "deactivated (PATCH)": ("PATCH", {"active": False}),
    "role_changed": ("PATCH", {"role": "compliance"}),
    "password_changed": ("PATCH", {"password": "a brand new one"}),
}


@pytest.mark.parametrize("change", CHANGES)
def test_taking_power_away_ends_every_session_and_hands_the_chats_on(api: Api, tenant: dict, change: str, closed):
    sam = agent(api, tenant, "sam@acme.com", role="supervisor", max_concurrent=2)
    sam.send(action="presence.set", status="online")
    vera, wendy = visitor(api, tenant), visitor(api, tenant)
    for party in (vera, wendy):
        party.send(action="message.send", client_msg_id="v1", text="help")
    held = {frames_sent(p.connection_id)[0]["conversation_id"] for p in (vera, wendy)}
    second_login = api.login(tenant["tenant_id"], "sam@acme.com")
    second_tab = Party(second_login)
    kim = agent(api, tenant, "kim@acme.com", max_concurrent=5)
    kim.send(action="presence.set", status="online")
    kim.new_frames()
    sam_id = agent_id_of(tenant, "sam@acme.com")

    method, body = CHANGES[change]
    response = api.call(method, f"/v1/agents/{sam_id}", body, token=tenant["admin_token"])
    assert response.status_code in (200, 204), response.body

    reason = change.split(" ")[0]
    for tab in (sam, second_tab):
        assert last_frame_before_close(closed, tab) == {"type": "session.revoked", "reason": reason}
    assert status(api, second_login) == 401
    # Handed back at once (no job run) and routed to the agent who has room.
    assert {f["conversation_id"] for f in kim.of_type("conversation.assigned")} == held
    for conversation_id in held:
        assert ConversationModel.get(tenant["tenant_id"], conversation_id).agent_id != sam_id
    stored = AgentModel.get(tenant["tenant_id"], sam_id)
    assert stored.status == "offline" and int(stored.load) == 0
    assert status(api, tenant["admin_token"]) == 200  # nobody else's session ended
    kim.send(action="ping")
    assert kim.new_frames() == [{"type": "pong"}]


def test_a_change_that_takes_no_power_keeps_the_sessions(api: Api, tenant: dict, closed):
    sam = agent(api, tenant, "sam@acme.com")
    sam_id = agent_id_of(tenant, "sam@acme.com")
    for patch in ({"name": "Samuel"}, {"teams": ["vip"]}, {"role": "agent"}, {"max_concurrent": 3}):
        assert api.call("PATCH", f"/v1/agents/{sam_id}", patch, token=tenant["admin_token"]).status_code == 200
    sam.send(action="ping")
    assert sam.new_frames() == [{"type": "pong"}] and closed == {}


# --- A demoted supervisor's socket ----------------------------------------------------------------------
def supervised_chat(api: Api, tenant: dict) -> tuple[Party, Party, str, str]:
    """Sue (supervisor, on a socket) watches Sam hold Vera's chat; Kim is online with room."""
    sam = agent(api, tenant, "sam@acme.com")
    sam.send(action="presence.set", status="online")
    vera = visitor(api, tenant)
    vera.send(action="message.send", client_msg_id="v1", text="help")
    conversation_id = frames_sent(vera.connection_id)[0]["conversation_id"]
    kim = agent(api, tenant, "kim@acme.com")
    kim.send(action="presence.set", status="online")
    sue = agent(api, tenant, "sue@acme.com", role="supervisor")
    return sue, kim, conversation_id, agent_id_of(tenant, "kim@acme.com")


def test_a_supervisor_moves_others_chats_until_demoted(api: Api, tenant: dict):
    sue, kim, conversation_id, kim_id = supervised_chat(api, tenant)
    sue.send(action="conversation.transfer", conversation_id=conversation_id, to_agent_id=kim_id)
    assert kim.of_type("conversation.assigned")[0]["conversation_id"] == conversation_id


def test_a_transfer_arriving_between_the_demotion_and_the_sockets_closing_is_refused(
        api: Api, tenant: dict, monkeypatch):
    """The race: the role change is committed, and Sue's frame is handled before her socket is closed."""
    sue, kim, conversation_id, kim_id = supervised_chat(api, tenant)
    sam_id = ConversationModel.get(tenant["tenant_id"], conversation_id).agent_id
    end_all, answers = revocation.end_all, []

    def frame_first(agent_model, reason):
        sue.send(action="conversation.transfer", conversation_id=conversation_id, to_agent_id=kim_id)
        answers.extend(sue.new_frames())
        end_all(agent_model, reason)

    monkeypatch.setattr(revocation, "end_all", frame_first)
    demoted = api.call("PATCH", f"/v1/agents/{agent_id_of(tenant, 'sue@acme.com')}", {"role": "agent"},
                       token=tenant["admin_token"])
    assert demoted.status_code == 200
    assert [(f["type"], f["code"]) for f in answers] == [("error", "session_revoked")]
    assert ConversationModel.get(tenant["tenant_id"], conversation_id).agent_id == sam_id
    assert kim.of_type("conversation.assigned") == []
    assert audit_events(tenant["tenant_id"], "conversation.transferred") == []
