"""The console's sessions in a browser: "Sign out" ends the session on the server, and a session the
server ends (`session.revoked`) takes the console back to the sign-in form, saying why."""
from __future__ import annotations

import json

from playwright.sync_api import expect

from tests.browser.conftest import Shop, online_agent


def token_of(page) -> str | None:
    saved = page.evaluate("sessionStorage.getItem('switchboard.console')")
    return json.loads(saved)["token"] if saved else None


def test_sign_out_ends_the_session_on_the_server(stack, contexts):
    shop = Shop(stack, "Lamps")
    shop.add_agent("alex@lamps.com", "Alex Agent")
    page = contexts()
    online_agent(shop, page, "alex@lamps.com")
    token = token_of(page)
    assert shop.call("GET", "/v1/me", token=token).status_code == 200
    page.click("#sign-out")
    page.wait_for_selector("#login")
    assert token_of(page) is None
    assert shop.call("GET", "/v1/me", token=token).status_code == 401


def test_a_session_the_server_ends_returns_to_the_sign_in_form(stack, contexts):
    shop = Shop(stack, "Rugs")
    agent = shop.add_agent("sue@rugs.com", "Sue Supervisor", role="supervisor")
    page = contexts()
    online_agent(shop, page, "sue@rugs.com")
    page.wait_for_load_state("networkidle")  # loaded: the frame, not a refused REST call, ends it here
    assert shop.call("PATCH", f"/v1/agents/{agent['agent_id']}", {"role": "agent"}).status_code == 200
    page.wait_for_selector("#login")
    expect(page.locator("#login-error")).to_have_text("Your role was changed; please sign in again.")
    assert token_of(page) is None
