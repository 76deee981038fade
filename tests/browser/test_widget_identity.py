"""The widget on a tenant's page that verifies its signed-in user (data-user-id, data-user-hash), in
headless Chromium against the local stack: one history per user in every browser, and a browser's
saved chat never passes to the next user."""
from __future__ import annotations

import hashlib
import hmac
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import WIDGET, Shop, visitor_says

pytestmark = [pytest.mark.e2e, pytest.mark.browser]


class ShopSite:
    """The tenant's own site: a page rendered for its signed-in user by a server that knows the identity
    secret, on an origin of its own (another port of 127.0.0.1: the local stack is on loopback)."""

    def __init__(self, shop: Shop, secret: str) -> None:
        self.shop, self.secret, self.user_id = shop, secret, ""
        site = self

        class Page(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                body = site.html().encode()
                self.send_response(200)
                self.send_header("Content-Type", "text/html; charset=utf-8")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Page)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.url = f"http://127.0.0.1:{self.server.server_port}/my-account"

    def html(self) -> str:
        user_hash = hmac.new(self.secret.encode(), self.user_id.encode(), hashlib.sha256).hexdigest()
        return (f"<!doctype html><title>My account</title><h1>Hello {self.user_id}</h1>"
                f'<script type="module" src="{self.shop.stack.base}/widget.js" '
                f'data-widget-key="{self.shop.widget_key}" data-user-id="{self.user_id}" '
                f'data-user-hash="{user_hash}"></script>')

    def open_as(self, page, user_id: str) -> None:
        self.user_id = user_id
        page.goto(self.url)
        page.click(f"{WIDGET} .bubble")


def saved(page, shop: Shop) -> dict:
    return json.loads(page.evaluate(f"localStorage.getItem('switchboard:{shop.widget_key}')") or "{}")


def test_a_verified_user_has_one_history_and_the_next_user_gets_none_of_it(stack, contexts):
    shop = Shop(stack, "Lamps")
    site = ShopSite(shop, shop.call("POST", "/v1/identity-secret").json()["identity_secret"])
    try:
        laptop = contexts()
        site.open_as(laptop, "customer-7")
        visitor_says(laptop, "Where is my lamp?")
        first = saved(laptop, shop)
        assert first["user_id"] == "customer-7"
        assert shop.call("GET", f"/v1/visitors/{first['visitor_id']}").json()["user_id"] == "customer-7"

        # The same user on another device: the same visitor, the open chat and its history.
        phone = contexts()
        site.open_as(phone, "customer-7")
        expect(phone.locator(f"{WIDGET} li.message.visitor .text")).to_have_text(["Where is my lamp?"])
        assert saved(phone, shop)["visitor_id"] == first["visitor_id"]

        # Another user signs in on the laptop: the saved chat is not theirs and does not come back.
        site.open_as(laptop, "customer-8")
        laptop.wait_for_function(f"JSON.parse(localStorage.getItem('switchboard:{shop.widget_key}') || '{{}}')"
                                 ".user_id === 'customer-8'")
        assert saved(laptop, shop)["visitor_id"] != first["visitor_id"]
        expect(laptop.locator(f"{WIDGET} li.message")).to_have_count(0)
    finally:
        site.server.shutdown()
