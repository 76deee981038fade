"""What an embedded widget does from a tenant's page, through the local stack: CORS preflights and
answers on the public routes, and the tenant's allowed origins on widget sessions and WebSocket
handshakes (a real `websockets` client sending Origin)."""
from __future__ import annotations

import hashlib
import hmac
import json
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack

import pytest
import requests
from websockets.exceptions import ConnectionClosed, InvalidStatus
from websockets.sync.client import connect

from devstack.harness import PASSWORD, RunningStack, sign_up
from tests.e2e.test_chat_e2e import agent_socket, frames_until

pytestmark = pytest.mark.e2e

SHOP = "https://shop.example"


@pytest.fixture(scope="module")
def shop(stack: RunningStack) -> dict:
    """A tenant whose widget may only be embedded on https://shop.example."""
    tenant = sign_up(stack, name="Shop", admin_email="admin@shop.example")
    response = requests.put(stack.base + "/v1/settings", json={"allowed_origins": [SHOP]},
                            headers={"Authorization": f"Bearer {tenant['token']}"}, timeout=10)
    assert response.status_code == 200, response.text
    return tenant


def session(stack: RunningStack, tenant: dict, origin: str | None, **body) -> requests.Response:
    return requests.post(f"{stack.base}/v1/widget/{tenant['widget_key']}/sessions", json=body,
                         headers={"Origin": origin} if origin else {}, timeout=10)


@pytest.mark.parametrize("path", ["/v1/widget/wk.t_x.y/sessions", "/v1/surveys/any-token"])
def test_the_preflight_allows_a_json_post_from_any_page(stack: RunningStack, path: str):
    preflight = requests.options(stack.base + path, timeout=10, headers={
        "Origin": SHOP, "Access-Control-Request-Method": "POST", "Access-Control-Request-Headers": "content-type"})
    assert preflight.status_code == 200
    assert preflight.headers["Access-Control-Allow-Origin"] == "*"
    assert "POST" in preflight.headers["Access-Control-Allow-Methods"].split(",")
    assert "Content-Type" in preflight.headers["Access-Control-Allow-Headers"].split(",")
    assert preflight.headers["Access-Control-Max-Age"] == "600"


def test_answers_and_errors_carry_the_cors_header(stack: RunningStack, shop: dict):
    created = session(stack, shop, SHOP, name="Vera")
    assert created.status_code == 201 and created.headers["Access-Control-Allow-Origin"] == "*"
    assert created.json()["open_conversation_id"] is None
    refused = session(stack, shop, "https://evil.example", name="Mallory")
    assert refused.status_code == 403 and refused.json()["error"]["code"] == "origin_not_allowed"
    assert refused.headers["Access-Control-Allow-Origin"] == "*"
    survey = requests.post(stack.base + "/v1/surveys/not-a-token", json={"rating": 5},
                           headers={"Origin": SHOP}, timeout=10)
    assert survey.status_code == 404 and survey.headers["Access-Control-Allow-Origin"] == "*"


def test_the_websocket_handshake_checks_the_origin(stack: RunningStack, shop: dict):
    visitor_token = session(stack, shop, SHOP).json()["visitor_token"]
    for token in (visitor_token, shop["token"]):
        with pytest.raises(InvalidStatus) as refused:
            connect(f"{stack.ws}/?token={token}", origin="https://evil.example", open_timeout=10)
        assert refused.value.response.status_code == 403
        assert refused.value.response.body == b"origin_not_allowed"
        # A listed origin, the app's own (the console), and no Origin at all (not a browser) connect.
        for origin in (SHOP, "HTTPS://SHOP.EXAMPLE:443", stack.base, None):
            with connect(f"{stack.ws}/?token={token}", origin=origin, open_timeout=10) as ws:
                ws.send(json.dumps({"action": "ping"}))
                assert json.loads(ws.recv(timeout=10)) == {"type": "pong"}, origin
    assert "origin 'https://evil.example' not allowed" in "".join(stack.output)
    assert visitor_token not in "".join(stack.output)


def test_a_reloaded_widget_resumes_its_open_chat(stack: RunningStack, shop: dict):
    first = session(stack, shop, SHOP, name="Vera").json()
    with connect(f"{stack.ws}/?token={first['visitor_token']}", origin=SHOP, open_timeout=10) as ws:
        ws.send(json.dumps({"action": "message.send", "client_msg_id": "v1", "text": "hello"}))
        while (frame := json.loads(ws.recv(timeout=10)))["type"] != "ack":
            pass
    again = session(stack, shop, SHOP, visitor_token=first["visitor_token"]).json()
    assert again["visitor_id"] == first["visitor_id"]
    assert again["open_conversation_id"] == frame["conversation_id"]


# --- Visitors never throttle staff (issue 19, item 1) ---------------------------------------------
# Small budgets so a flood reaches them in seconds; the staff budget is smaller than the flood, so
# before visitors had budgets of their own this flood took every agent and admin to 429.
TIGHT = {"TENANT_REQUESTS_PER_MINUTE": "100", "VISITOR_REQUESTS_PER_MINUTE": "10",
         "VISITOR_SOURCE_REQUESTS_PER_MINUTE": "100", "TENANT_NEW_VISITORS_PER_MINUTE": "20",
         "WIDGET_SESSIONS_PER_MINUTE": "1000"}


@pytest.fixture(scope="module")
def tight_stack():
    running = RunningStack(**TIGHT)
    yield running
    running.stop()


def test_a_visitor_flood_from_one_widget_key_never_throttles_staff(tight_stack: RunningStack):
    stack = tight_stack
    tenant = sign_up(stack, name="Flooded", admin_email="admin@flooded.example")
    stack.post("/v1/agents", {"email": "sam@flooded.example", "name": "Sam", "password": PASSWORD, "role": "agent"},
               tenant["token"]).raise_for_status()
    sam = stack.post("/v1/auth/login", {"tenant_id": tenant["tenant_id"], "email": "sam@flooded.example",
                                        "password": PASSWORD}).json()["token"]
    staff: list[int] = []

    def staff_round() -> None:
        nonlocal sam
        staff.append(requests.get(stack.base + "/v1/me", headers=bearer(sam), timeout=30).status_code)
        refreshed = requests.post(stack.base + "/v1/auth/refresh", headers=bearer(sam), timeout=30)
        staff.append(refreshed.status_code)
        sam = refreshed.json().get("token", sam)
        staff.append(requests.get(stack.base + "/v1/me", headers=bearer(tenant["token"]), timeout=30).status_code)

    with ThreadPoolExecutor(8) as pool:
        sessions = list(pool.map(lambda _: session(stack, tenant, None), range(40)))
        staff_round()
        tokens = [s.json()["visitor_token"] for s in sessions if s.status_code == 201]
        busy = [s for s in sessions if s.status_code != 201]
        visitor_statuses: list[int] = []
        for _ in range(25):
            visitor_statuses += pool.map(
                lambda token: requests.get(stack.base + "/v1/me", headers=bearer(token), timeout=30).status_code,
                tokens)
            staff_round()
    refused = visitor_statuses.count(429)
    print(f"\nflood on the local stack ({', '.join(f'SWITCHBOARD_{k}={v}' for k, v in TIGHT.items())}): "
          f"{len(sessions)} new sessions from one widget key, {len(busy)} refused (widget_busy); "
          f"{len(visitor_statuses)} visitor GET /v1/me, {refused} refused; "
          f"{len(staff)} staff requests (GET /v1/me, POST /v1/auth/refresh), {len(staff) - staff.count(200)} refused")
    assert busy and all(s.status_code == 429 and s.json()["error"]["code"] == "widget_busy"
                        and int(s.headers["Retry-After"]) >= 1 for s in busy)
    assert set(visitor_statuses) == {200, 429} and refused > len(visitor_statuses) / 2
    assert len(visitor_statuses) > 100  # more than the whole staff budget
    assert staff == [200] * len(staff) and len(staff) == 78


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


# --- Identity verification and erasure during a live chat (items 6 and 8) ------------------------------
def test_a_verified_user_is_one_visitor_and_a_bad_hash_is_401(stack: RunningStack, shop: dict):
    rotated = requests.post(stack.base + "/v1/identity-secret", headers=bearer(shop["token"]), timeout=10)
    assert rotated.status_code == 200
    secret = rotated.json()["identity_secret"]
    signed = hmac.new(secret.encode(), b"customer-7", hashlib.sha256).hexdigest()
    first = session(stack, shop, SHOP, user_id="customer-7", user_hash=signed).json()
    again = session(stack, shop, SHOP, user_id="customer-7", user_hash=signed).json()
    assert (again["visitor_id"], first["returning"], again["returning"]) == (first["visitor_id"], False, True)
    refused = session(stack, shop, SHOP, user_id="customer-8", user_hash=signed)
    assert refused.status_code == 401 and refused.headers["Access-Control-Allow-Origin"] == "*"
    assert secret not in "".join(stack.output)


def test_erasing_a_visitor_mid_chat_closes_their_socket_and_is_audited(stack: RunningStack, tenant: dict):
    auth = bearer(tenant["token"])
    with ExitStack() as sockets:
        sam = agent_socket(stack, tenant, "eraser@e2e.com", sockets, teams=["erasure"])
        sam.send(json.dumps({"action": "presence.set", "status": "online"}))
        frames_until(sam, "presence")
        vera = stack.post(f"/v1/widget/{tenant['widget_key']}/sessions", {"team": "erasure"}).json()
        ws = sockets.enter_context(connect(f"{stack.ws}/?token={vera['visitor_token']}", open_timeout=10))
        ws.send(json.dumps({"action": "message.send", "client_msg_id": "v1", "text": "E2E-ERASE-ME 4111"}))
        conversation_id = frames_until(ws, "ack")[-1]["conversation_id"]
        frames_until(sam, "message.new")
        erased = requests.delete(f"{stack.base}/v1/visitors/{vera['visitor_id']}", headers=auth, timeout=30)
        assert erased.status_code == 202 and erased.json()["conversations_shredded"] == 1
        with pytest.raises(ConnectionClosed):  # the server closes the visitor's socket
            while True:
                ws.recv(timeout=10)
        assert frames_until(sam, "conversation.closed")[-1]["conversation_id"] == conversation_id
    events = requests.get(stack.base + "/v1/audit/events", headers=auth, timeout=10).json()["items"]
    assert [e["target"] for e in events if e["action"] == "visitor.erased"] == [vera["visitor_id"]]
    messages = requests.get(f"{stack.base}/v1/conversations/{conversation_id}/messages", headers=auth,
                            timeout=10).json()["items"]
    assert [(m["text"], m["redacted"]) for m in messages] == [(None, True)]
