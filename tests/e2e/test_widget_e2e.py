"""What an embedded widget does from a tenant's page, through the local stack: CORS preflights and
answers on the public routes, and the tenant's allowed origins on widget sessions and WebSocket
handshakes (a real `websockets` client sending Origin)."""
from __future__ import annotations

import json

import pytest
import requests
from websockets.exceptions import InvalidStatus
from websockets.sync.client import connect

from tests.e2e.conftest import RunningStack, sign_up

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
