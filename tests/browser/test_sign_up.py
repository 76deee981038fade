"""From nothing to a live desk in the browser, against the local stack: a new owner creates a workspace
on the console's sign-up form, keeps its id and the API key shown once (copied, downloaded), lands signed
in on Get started, whose checklist follows the workspace's real state; the embed snippet it shows, pasted
into a shop's page, starts a chat. In Chinese (a zh-CN browser) and in English."""
from __future__ import annotations

import re
from pathlib import Path

import pytest
import requests
from playwright.sync_api import expect

from devstack.harness import PASSWORD
from tests.browser.checks import assert_accessible, assert_no_english
from tests.browser.conftest import WIDGET, screenshot, visitor_says

# A stack of its own: the last test spends this address's sign-ups (10 an hour) to see the limit.
pytestmark = [pytest.mark.e2e, pytest.mark.browser, pytest.mark.own_stack]

ITEMS = ("team", "hours", "faq", "widget", "chat")


def owner_page(contexts, locale: str):
    page = contexts(locale=locale)
    page.context.grant_permissions(["clipboard-read", "clipboard-write"])
    return page


def done(page) -> dict[str, bool]:
    return {item: page.get_attribute(f"#start-{item}", "data-done") == "true" for item in ITEMS}


def create_workspace(page, stack, name: str, email: str, locale: str) -> dict:
    """The sign-up form from the sign-in form's link, a mistake caught before sending, then the workspace."""
    page.goto(f"{stack.base}/app")
    page.click("#sign-up-link")
    expect(page.locator("#signup-name")).to_be_focused()
    assert page.evaluate("location.hash") == "#sign-up"
    page.fill("#signup-name", name)
    page.fill("#signup-email", email)
    page.fill("#signup-password", PASSWORD)
    page.fill("#signup-repeat", PASSWORD + "x")
    page.click("#signup-submit")
    expect(page.locator("#signup-repeat-error")).not_to_be_empty()
    expect(page.locator("#signup-repeat")).to_have_attribute("aria-invalid", "true")
    expect(page.locator("#signup-repeat")).to_be_focused()
    if locale == "zh-CN":
        assert_no_english(page, within="#sign-up")
    assert_accessible(page, context="#sign-up")
    screenshot(page, "sign-up" if locale == "en" else f"sign-up.{locale}")
    page.fill("#signup-repeat", PASSWORD)
    page.click("#signup-submit")

    # Shown once: the workspace id (remembered by this browser) and the API key, copied and downloaded.
    expect(page.locator("#keep-title")).to_be_focused()
    tenant_id = page.inner_text("#workspace-id")
    api_key = page.inner_text("#api-key")
    assert re.fullmatch(r"sbk\.[^.]+\.[^.]+\.[^.]+", api_key), api_key
    page.click("#api-key-copy")
    expect(page.locator("#keep-status")).not_to_be_empty()
    assert page.evaluate("navigator.clipboard.readText()") == api_key
    with page.expect_download() as download:
        page.click("#api-key-download")
    kept = Path(download.value.path()).read_text(encoding="utf-8")
    assert tenant_id in kept and api_key in kept
    assert page.evaluate("localStorage.getItem('switchboard.console.tenant')") == tenant_id
    if locale == "zh-CN":
        assert_no_english(page, within="#sign-up-keep")
    assert_accessible(page, context="#sign-up-keep")
    # The key is the tenant's admin key.
    agents = requests.get(f"{stack.base}/v1/agents", headers={"Authorization": f"Bearer {api_key}"}, timeout=30)
    assert agents.status_code == 200 and [a["email"] for a in agents.json()["items"]] == [email]
    return {"tenant_id": tenant_id, "api_key": api_key}


def owner_goes_live(stack, contexts, locale: str, name: str, email: str) -> None:
    page = owner_page(contexts, locale)
    workspace = create_workspace(page, stack, name, email, locale)
    admin = {"Authorization": f"Bearer {workspace['api_key']}"}

    # Signed in on Get started; the key is gone from the page; nothing done yet.
    page.click("#keep-continue")
    page.wait_for_selector("#start-screen #start-team")
    expect(page.locator("#tab-start")).to_have_class(re.compile("active"))
    assert page.locator("#api-key").count() == 0
    assert page.evaluate("location.hash") == ""
    assert done(page) == dict.fromkeys(ITEMS, False)
    if locale == "zh-CN":
        assert_no_english(page, within="#start-screen")
    assert_accessible(page, context="#start-screen")
    screenshot(page, "start" if locale == "en" else f"start.{locale}")

    # An agent added elsewhere (the REST API): done once the page is loaded again.
    added = requests.post(f"{stack.base}/v1/agents", headers=admin, timeout=30, json={
        "email": f"jo@{email.split('@')[1]}", "name": "Jo", "password": PASSWORD, "role": "agent", "teams": [],
        "max_concurrent": 3})
    assert added.status_code == 201, added.text
    page.reload()
    page.click("#tab-start")
    expect(page.locator("#start-team")).to_have_attribute("data-done", "true")
    assert not done(page)["hours"]
    # Always open, deliberately: every day 00:00-24:00, set on the server.
    page.click("#start-always-open")
    expect(page.locator("#start-hours")).to_have_attribute("data-done", "true")
    hours = requests.get(f"{stack.base}/v1/settings", headers=admin, timeout=30).json()["business_hours"]
    assert hours == {day: [["00:00", "24:00"]] for day in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")}
    # An item opens the screen that does it.
    page.click("#start-open-team")
    page.wait_for_selector("#team-screen")
    page.click("#tab-start")

    # The snippet, with a language hint, copied and pasted into a shop's own page: a visitor chats there.
    page.select_option("#start-snippet-locale", "en")
    snippet = page.inner_text("#start-snippet")
    assert 'data-locale="en"' in snippet and "data-widget-key=\"wk." in snippet and f"{stack.base}/widget.js" in snippet
    page.click("#start-snippet-copy")
    expect(page.locator("#start-snippet-status")).not_to_be_empty()
    assert page.evaluate("navigator.clipboard.readText()") == snippet
    widget_key = re.search(r'data-widget-key="([^"]+)"', snippet).group(1)
    assert page.get_attribute("#start-demo", "href") == f"demo?widget_key={widget_key}"
    visitor = contexts(locale="en")
    # The shop's own page on another origin (localhost, not the stack's 127.0.0.1): a page of that origin
    # (one without a CSP of ours) made into the shop's, snippet and all.
    visitor.goto(stack.base.replace("127.0.0.1", "localhost") + "/openapi.json")
    visitor.set_content(f"<!doctype html><html lang=en><title>Shop</title><h1>Tea</h1>{snippet}</html>")
    visitor.click(f"{WIDGET} .bubble")
    visitor_says(visitor, "Do you ship to Shanghai?")
    page.click("#start-refresh")
    expect(page.locator("#start-chat")).to_have_attribute("data-done", "true")
    assert not done(page)["faq"]


def test_a_new_owner_goes_live_in_chinese(stack, contexts):
    owner_goes_live(stack, contexts, "zh-CN", "莲花茶馆", "owner@lotus-tea.com")


def test_a_new_owner_goes_live_in_english(stack, contexts):
    owner_goes_live(stack, contexts, "en", "Birch Bikes", "owner@birch-bikes.com")


def test_the_server_refusals_land_on_their_fields(stack, contexts):
    """An address only the server refuses (a reserved domain) is marked on its field; nothing is created."""
    page = owner_page(contexts, "zh-CN")
    page.goto(f"{stack.base}/app#sign-up")
    page.fill("#signup-name", "Reserved")
    page.fill("#signup-email", "owner@shop.test")
    page.fill("#signup-password", PASSWORD)
    page.fill("#signup-repeat", PASSWORD)
    page.click("#signup-submit")
    expect(page.locator("#signup-email")).to_have_attribute("aria-invalid", "true")
    expect(page.locator("#signup-email-error")).not_to_be_empty()
    expect(page.locator("#signup-error")).not_to_be_empty()
    expect(page.locator("#signup-email")).to_be_focused()
    assert_no_english(page, within="#sign-up")
    # Back to the sign-in form by its link.
    page.click("#sign-in-link")
    page.wait_for_selector("#login #tenant")


def test_too_many_sign_ups_from_one_network_are_refused_with_when_to_try_again(stack, contexts):
    """Signing up is limited per source address (SWITCHBOARD_SIGNUP_LIMIT_PER_HOUR, 10 an hour): past it
    the form says so and for how long, and nothing is created. Last in this module: it spends the hour."""
    for _ in range(11):
        answer = requests.post(f"{stack.base}/v1/tenants", timeout=30, json={
            "name": "Filler", "admin_email": "filler@fill.com", "admin_password": PASSWORD})
        if answer.status_code == 429:
            break
    assert answer.status_code == 429
    page = owner_page(contexts, "zh-CN")
    page.goto(f"{stack.base}/app#sign-up")
    page.fill("#signup-name", "Late Tea")
    page.fill("#signup-email", "owner@late-tea.com")
    page.fill("#signup-password", PASSWORD)
    page.fill("#signup-repeat", PASSWORD)
    page.click("#signup-submit")
    expect(page.locator("#signup-error")).to_have_text(re.compile(r"^从此网络创建的工作区过多，请 \d+ 分钟后再试。$"))
    assert page.locator("#sign-up-keep").count() == 0
