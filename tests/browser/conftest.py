"""Headless Chromium (Debian's /usr/bin/chromium, driven by Playwright; nothing downloads a browser)
against the local stack, as a user of `make dev` would open it.

Shared per test worker, because each costs seconds to start: the local stack (`stack`, tests/conftest.py's
`shared_stack`) and Chromium (`browser`); every test gets fresh browser contexts (`contexts`) and signs up a
tenant of its own (`Shop(stack, name)`), so tests cannot see each other's data. A new module needs nothing
more: take `stack` and `contexts`. Things every tenant shares on a shared stack: the per-address budgets
(raised there), `/dev/jobs` runs and the scheduled jobs (they act on every tenant: assert what happened to
your tenant, not a run's totals), `/dev/outbox` (use addresses of your own), the log and the demo tenant. A
module that tests a per-address limit at its default, changes what every tenant sees or needs other
settings takes a stack of its own: `pytestmark = [..., pytest.mark.own_stack(SETTING="value")]`
(tests/browser/test_sign_up.py)."""
from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest
import requests
from playwright.sync_api import expect

from devstack.harness import PASSWORD, RunningStack, sign_up

CHROMIUM = os.environ.get("SWITCHBOARD_CHROMIUM", "/usr/bin/chromium")
# Without the background-networking flags Chromium keeps dialling Google on a closed network.
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
# `SWITCHBOARD_SCREENSHOTS=docs/screenshots make test` refreshes the pictures in the docs.
SCREENSHOTS = os.environ.get("SWITCHBOARD_SCREENSHOTS")
# A flow that is the same in either language (the text comes from the catalogs) runs in Chinese, which also
# checks that no English is left; in English as well when screenshots are taken, for the English pictures.
# English on every screen is test_every_screen.py's (the admin's sweep).
FLOW_LOCALES = ["en", "zh-CN"] if SCREENSHOTS else ["zh-CN"]
WIDGET = "#switchboard-widget"
TIMEOUT = 15000
# Assertions wait as long as page actions do (expect's own default is 5 s): on a loaded CI machine a
# reloaded widget took longer than that to fetch its history.
expect.set_options(timeout=TIMEOUT)


@pytest.fixture(scope="session")
def browser():
    if not shutil.which(CHROMIUM):
        pytest.fail(f"{CHROMIUM} is missing: `make test` installs Debian's chromium")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture
def contexts(browser):
    opened = []

    def open_page(**options):
        context = browser.new_context(viewport={"width": 1280, "height": 760}, **options)
        opened.append(context)
        page = context.new_page()
        page.set_default_timeout(TIMEOUT)
        return page

    yield open_page
    for context in opened:
        context.close()


class Shop:
    """A tenant with an admin token, agents to sign in as, and REST helpers."""

    def __init__(self, stack: RunningStack, name: str) -> None:
        self.stack = stack
        signed = sign_up(stack, name=name, admin_email=f"admin@{name.lower()}.com")
        self.tenant_id, self.widget_key, self.admin_token = signed["tenant_id"], signed["widget_key"], signed["token"]
        self.demo_url = f"{stack.base}/demo?widget_key={self.widget_key}"

    def call(self, method: str, path: str, body: dict | None = None, token: str | None = None) -> requests.Response:
        return requests.request(method, self.stack.base + path, json=body, timeout=30,
                                headers={"Authorization": f"Bearer {token or self.admin_token}"})

    def add_agent(self, email: str, name: str, role: str = "agent", **extra) -> dict:
        body = {"email": email, "name": name, "password": PASSWORD, "role": role, "teams": [],
                "max_concurrent": 3, **extra}
        response = self.call("POST", "/v1/agents", body)
        assert response.status_code == 201, response.text
        return response.json()

    def settings(self, **changes) -> None:
        assert self.call("PUT", "/v1/settings", changes).status_code == 200

    def sign_in(self, page, email: str) -> None:
        page.goto(f"{self.stack.base}/app")
        page.fill("#tenant", self.tenant_id)
        page.fill("#email", email)
        page.fill("#password", PASSWORD)
        page.click("#sign-in")


def screenshot(page, name: str) -> None:
    if SCREENSHOTS:
        Path(SCREENSHOTS).mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(Path(SCREENSHOTS) / f"{name}.png"))


def online_agent(shop: Shop, page, email: str) -> None:
    shop.sign_in(page, email)
    page.wait_for_selector("#connection[data-state=online]")


def visitor_says(page, text: str) -> None:
    page.fill(f"{WIDGET} form.composer textarea", text)  # in any language
    page.keyboard.press("Enter")
    # Acknowledged: the message left "sending" and holds its seq.
    page.wait_for_selector(f"{WIDGET} li.message.visitor:not(.sending) >> text={json.dumps(text, ensure_ascii=False)}")
