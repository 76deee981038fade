"""The admin's Team and Settings tabs in headless Chromium against the local stack: agents added,
changed, deactivated and reactivated by clicks and typing (and signing in as the result says);
business hours set from the keyboard alone, after which the widget is closed; both tabs in Chinese."""
from __future__ import annotations

from datetime import UTC, datetime

import pytest
from playwright.sync_api import expect

from devstack.harness import PASSWORD
from tests.browser.checks import assert_accessible, assert_no_english
from tests.browser.conftest import WIDGET, Shop, screenshot

pytestmark = [pytest.mark.e2e, pytest.mark.browser]

DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


def open_tab(page, shop: Shop, email: str, tab: str) -> None:
    shop.sign_in(page, email)
    page.click(f"#tab-{tab}")
    page.wait_for_selector(f"#{tab}-screen form")


def row(page, name: str):
    return page.locator("#team-agents tr", has=page.locator(f"td[translate=no] >> text='{name}'"))


def signs_in(shop: Shop, page, email: str) -> None:
    shop.sign_in(page, email)
    page.wait_for_selector("#sign-out")


def refused_sign_in(shop: Shop, page, email: str) -> None:
    shop.sign_in(page, email)
    expect(page.locator("#login-error")).not_to_be_empty()
    assert page.locator("#sign-out").count() == 0


def test_admin_adds_edits_deactivates_and_reactivates_an_agent(stack, contexts):
    shop = Shop(stack, "Kites")
    admin = contexts()
    open_tab(admin, shop, "admin@kites.com", "team")
    assert_accessible(admin, context="#team-screen")

    admin.fill("#agent-email", "jo@kites.com")
    admin.fill("#agent-name", "Jo Rivers")
    admin.fill("#agent-password", PASSWORD)
    admin.select_option("#agent-role", "agent")
    admin.fill("#agent-teams", "billing, sales")
    admin.fill("#agent-tier", "2")
    admin.fill("#agent-max-concurrent", "30")
    admin.click("#agent-submit")
    # Checked before sending: the capacity is out of range, and nothing was added.
    expect(admin.locator("#agent-max-concurrent-error")).to_have_text("Enter a whole number from 1 to 20.")
    expect(admin.locator("#agent-max-concurrent")).to_be_focused()
    assert len(shop.call("GET", "/v1/agents").json()["items"]) == 1
    admin.fill("#agent-max-concurrent", "4")
    admin.click("#agent-submit")
    jo = row(admin, "Jo Rivers")
    expect(jo.locator(".teams")).to_have_text("billing, sales")
    expect(jo.locator(".capacity")).to_have_text("0 of 4")
    expect(jo.locator(".presence")).to_have_text("Offline")
    agent_id = jo.get_attribute("data-agent")

    # The same email again: the server's 409, next to the email field.
    admin.fill("#agent-email", "JO@kites.com")
    admin.fill("#agent-name", "Another Jo")
    admin.fill("#agent-password", PASSWORD)
    admin.click("#agent-submit")
    expect(admin.locator("#agent-email-error")).to_have_text("An agent with this email already exists.")
    expect(admin.locator("#agent-email")).to_have_attribute("aria-invalid", "true")
    # An address only the server refuses (a reserved domain): its 400 names the field, shown there.
    admin.fill("#agent-email", "jo@kites.test")
    admin.click("#agent-submit")
    expect(admin.locator("#agent-email-error")).to_have_text("The server did not accept this value.")
    assert len(shop.call("GET", "/v1/agents").json()["items"]) == 2

    # The new agent signs in, and the team sees them online.
    agent = contexts()
    signs_in(shop, agent, "jo@kites.com")
    agent.wait_for_selector("#connection[data-state=online]")
    admin.click("#team-refresh")
    expect(jo.locator(".presence")).to_have_text("Online")
    screenshot(admin, "team")

    # Edit: name, role, teams, tier and capacity; only what changed is sent.
    admin.click(f"#edit-{agent_id}")
    expect(admin.locator("#agent-form")).to_have_attribute("data-mode", "edit")
    expect(admin.locator("#agent-name")).to_be_focused()
    admin.fill("#agent-name", "Jo Lead")
    admin.select_option("#agent-role", "supervisor")
    admin.fill("#agent-teams", "vip")
    admin.fill("#agent-tier", "3")
    admin.fill("#agent-max-concurrent", "6")
    admin.click("#agent-submit")
    lead = row(admin, "Jo Lead")
    expect(lead.locator(".role")).to_have_text("Supervisor")
    expect(lead.locator(".teams")).to_have_text("vip")
    expect(lead.locator(".tier")).to_have_text("3")
    expect(lead.locator(".capacity")).to_have_text("0 of 6")
    stored = next(a for a in shop.call("GET", "/v1/agents").json()["items"] if a["agent_id"] == agent_id)
    assert (stored["name"], stored["role"], stored["teams"], stored["tier"], stored["max_concurrent"]) == (
        "Jo Lead", "supervisor", ["vip"], 3, 6)
    # A new role ended Jo's session: the console says so.
    agent.wait_for_selector("#login-error >> text=role was changed")

    # Deactivated: the confirmation, then no sign-in.
    admin.once("dialog", lambda dialog: dialog.accept())
    admin.click(f"#deactivate-{agent_id}")
    expect(lead.locator(".state")).to_have_text("Deactivated")
    refused_sign_in(shop, contexts(), "jo@kites.com")

    # Reactivated: signs in again.
    admin.click(f"#reactivate-{agent_id}")
    expect(lead.locator(".state")).to_have_text("Active")
    expect(admin.locator("#team-status")).to_have_text("Agent reactivated. They can sign in again.")
    signs_in(shop, contexts(), "jo@kites.com")
    # The admin cannot deactivate themselves: Jo's row has the only button.
    expect(admin.locator("#team-agents button.deactivate")).to_have_count(1)


def current_closed_window() -> tuple[str, str, str]:
    """Today (UTC) and an hour of it that is not now: opening only then means closed now."""
    now = datetime.now(UTC)
    opens, closes = ("20:00", "21:00") if now.hour < 12 else ("03:00", "04:00")
    return DAYS[now.weekday()], opens, closes


def focused(page) -> str:
    return page.evaluate("document.activeElement.id")


def test_business_hours_from_the_keyboard_close_the_widget(stack, contexts):
    shop = Shop(stack, "Bells")
    admin = contexts()
    open_tab(admin, shop, "admin@bells.com", "settings")
    assert admin.locator("#setting-always-open").is_checked()
    assert admin.locator("#hours-editor").is_hidden()
    day, opens, closes = current_closed_window()

    # Keyboard only: the always-open box off, Tab to today's "Add hours", type a range.
    admin.focus("#setting-always-open")
    admin.keyboard.press("Space")
    expect(admin.locator("#hours-editor")).to_be_visible()
    for _ in range(DAYS.index(day) + 1):
        admin.keyboard.press("Tab")
    assert focused(admin) == f"hours-{day}-add"
    admin.keyboard.press("Enter")
    assert focused(admin) == f"hours-{day}-0-from"
    admin.keyboard.press("Control+A")
    admin.keyboard.type(opens)
    admin.keyboard.press("Tab")
    admin.keyboard.type(closes)
    # A second range that closes before it opens: refused before sending, and removed by keyboard.
    admin.keyboard.press("Tab")
    admin.keyboard.press("Tab")
    assert focused(admin) == f"hours-{day}-add"
    admin.keyboard.press("Enter")
    assert focused(admin) == f"hours-{day}-1-to"
    admin.keyboard.type("01:00")
    admin.keyboard.press("Enter")  # submits the form
    expect(admin.locator(f"#hours-{day}-error")).to_have_text("A range must close after it opens.")
    assert focused(admin) == f"hours-{day}-0-from"
    assert shop.call("GET", "/v1/settings").json()["business_hours"] is None
    admin.focus(f"#hours-{day}-1-to")
    admin.keyboard.press("Tab")
    admin.keyboard.press("Enter")  # its remove button
    expect(admin.locator(f"#hours-{day}-ranges li.range")).to_have_count(1)
    assert admin.evaluate("document.activeElement.className") == "remove-range"  # the one left

    # A field checked here: retention out of range.
    admin.fill("#setting-retention-days", "0")
    admin.fill("#setting-offline-message", "Closed now: leave a message and we write back.")
    admin.click("#settings-save")
    expect(admin.locator("#setting-retention-days-error")).to_have_text("Enter a whole number from 1 to 3,650.")
    admin.fill("#setting-retention-days", "90")
    admin.click("#settings-save")
    expect(admin.locator("#settings-status")).to_have_text("Saved.")
    saved = shop.call("GET", "/v1/settings").json()
    assert saved["business_hours"] == {d: ([[opens, closes]] if d == day else []) for d in DAYS}
    assert (saved["retention_days"], saved["offline_message"]) == (90, "Closed now: leave a message and we write back.")
    admin.click("#settings-save")
    expect(admin.locator("#settings-status")).to_have_text("Nothing to save: no setting changed.")
    assert_accessible(admin, context="#settings-screen")
    admin.locator("#settings-screen h2").scroll_into_view_if_needed()
    screenshot(admin, "settings")

    # The widget is out of hours now: it shows the tenant's offline message and the offline form, and a
    # message left there gets the offline notice. (An agent online still takes chats out of hours: the
    # admin, signed in here, goes offline first.)
    admin.select_option("#presence", "offline")
    visitor = contexts()
    visitor.goto(shop.demo_url)
    visitor.click(f"{WIDGET} .bubble")
    expect(visitor.locator(f"{WIDGET} .offline-message")).to_have_text("Closed now: leave a message and we write back.")
    form = visitor.locator(f"{WIDGET} form.offline")
    form.get_by_label("Your name").fill("Pat")
    form.get_by_label("Your email").fill("pat@example.com")
    form.get_by_label("Your message").fill("Is anyone there?")
    form.locator("button[type=submit]").click()
    visitor.wait_for_selector(f"{WIDGET} li.message.system >> text=Closed now: leave a message and we write back.")

    # Always open again, from the same tab.
    admin.check("#setting-always-open")
    admin.click("#settings-save")
    expect(admin.locator("#settings-status")).to_have_text("Saved.")
    assert shop.call("GET", "/v1/settings").json()["business_hours"] is None


def test_team_and_settings_in_chinese(stack, contexts):
    shop = Shop(stack, "Fans")
    shop.add_agent("li@fans.com", "Li Wei", teams=["售后"], tier=2)
    admin = contexts(locale="zh-CN")
    open_tab(admin, shop, "admin@fans.com", "team")
    li = row(admin, "Li Wei")
    expect(li.locator(".role")).to_have_text("客服")
    expect(li.locator(".presence")).to_have_text("离线")
    # Errors speak Chinese too.
    admin.click("#agent-submit")
    expect(admin.locator("#agent-email-error")).to_have_text("请输入有效的邮箱地址。")
    assert_no_english(admin, within="#team-screen")
    assert_accessible(admin, context="#team-screen")
    screenshot(admin, "team.zh-CN")

    admin.click("#tab-settings")
    admin.wait_for_selector("#settings-screen form")
    admin.uncheck("#setting-always-open")
    admin.click("#hours-mon-add")
    admin.fill("#hours-mon-0-to", "18:00")
    expect(admin.locator("#hours-editor .day[data-day=mon] legend")).to_have_text("星期一")
    admin.click("#setting-add-origin")
    admin.fill("#setting-origins li:first-child input", "not a site")
    admin.click("#settings-save")
    expect(admin.locator("#setting-allowed-origins-error")).to_contain_text("网站格式有误")
    assert_no_english(admin, within="#settings-screen")
    assert_accessible(admin, context="#settings-screen")
    admin.locator("#settings-screen h2").scroll_into_view_if_needed()
    screenshot(admin, "settings.zh-CN")
