"""Every screen of every role, reached from the keyboard alone, in English and in Chinese: axe-core finds no
WCAG 2.1 A/AA violation on the whole page, and the Chinese console has no English left outside data.

The screens' own tests go deep; this one is the sweep that catches a screen (or the frame around it) nobody
checked: a tab that a mouse can open but a keyboard cannot, a control without a label, a text left in English.
Every role's every screen is swept in Chinese, which checks all an English sweep would and that no English is
left. In English the admin sweeps every screen (each other role's screens are among the admin's) and the other
roles check their side bar and first screen: a role changes what a screen holds, not its language, and the full
sweep of every role a second time took as long as the Chinese one.
"""
from __future__ import annotations

import pytest
from playwright.sync_api import expect

from chalicelib.i18n import text
from tests.browser.checks import assert_accessible, assert_no_english
from tests.browser.conftest import Shop

pytestmark = [pytest.mark.e2e, pytest.mark.browser]

ROLES = ("admin", "supervisor", "agent", "compliance")
# What each role's side bar holds, in order (the roles' screens, as console-app.js gives them).
EXPECTED_TABS = {
    "admin": ["start", "conversations", "workspace", "dashboard", "audit", "team", "settings", "knowledge", "canned",
              "widget", "keys", "webhooks", "security", "sso", "account"],
    "supervisor": ["conversations", "workspace", "dashboard", "account"],
    "agent": ["conversations", "workspace", "account"],
    "compliance": ["audit", "account"],
}


@pytest.mark.parametrize("locale", ["en", "zh-CN"])
def test_every_screen_of_every_role_by_keyboard(stack, contexts, locale):
    shop = Shop(stack, "Sweep" if locale == "en" else "Sweepzh")
    domain = "sweep.com" if locale == "en" else "sweepzh.com"
    for role in ROLES[1:]:
        shop.add_agent(f"{role}@{domain}", f"{role.title()} Person", role=role)
    loading = text(locale, "console-common.loading")
    for role in ROLES:
        page = contexts(locale=locale)
        shop.sign_in(page, f"{role}@{domain}")
        tabs = page.locator("nav.sidebar .tab")
        expect(tabs.first).to_be_visible()
        assert [tab_id.removeprefix("tab-") for tab_id in tabs.evaluate_all("(tabs) => tabs.map((t) => t.id)")] \
            == EXPECTED_TABS[role], role
        for name in EXPECTED_TABS[role] if locale == "zh-CN" or role == "admin" else EXPECTED_TABS[role][:1]:
            tab = page.locator(f"#tab-{name}")
            tab.focus()
            page.keyboard.press("Enter")
            expect(tab).to_have_attribute("aria-current", "page")
            expect(page.locator(".view > *").first).to_be_visible()
            expect(page.locator(".view").get_by_text(loading, exact=True)).to_have_count(0)
            if locale == "zh-CN":
                assert_no_english(page)
            assert_accessible(page)
        page.context.close()
