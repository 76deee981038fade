"""The admin's Knowledge, Canned responses and API keys tabs in headless Chromium against the local stack,
in Chinese (in English too when screenshots are taken; FLOW_LOCALES): real clicks and typing, and what each
change does for a visitor or a caller."""
from __future__ import annotations

import time

import pytest
import requests
from playwright.sync_api import expect

from tests.browser.checks import assert_accessible, assert_no_english
from tests.browser.conftest import FLOW_LOCALES, WIDGET, Shop, screenshot, visitor_says

pytestmark = [pytest.mark.e2e, pytest.mark.browser]

LOCALES = FLOW_LOCALES  # the flows are the same in English (tests/browser/conftest.py)
QUESTION, ANSWER = "退货政策是什么？", "收货后30天内可以退货，全额退款。"
CLIPBOARD = ["clipboard-read", "clipboard-write"]


def admin_on(shop: Shop, contexts, name: str, locale: str, tab: str, **options):
    """The shop's admin signed in (in `locale`), on `tab`, every confirmation accepted."""
    page = contexts(locale=locale, **options)
    page.on("dialog", lambda dialog: dialog.accept())
    shop.sign_in(page, f"admin@{name.lower()}.com")
    page.click(f"#tab-{tab}")
    return page


def check_screen(page, screen: str, picture: str, locale: str) -> None:
    if locale == "zh-CN":
        assert_no_english(page, within=screen)
    assert_accessible(page, context=screen)
    page.evaluate("window.scrollTo(0, 0)")
    page.locator(screen).evaluate("(panel) => panel.scrollTo(0, 0)")
    screenshot(page, picture if locale == "en" else f"{picture}.{locale}")


def open_widget(page, url: str) -> None:
    page.goto(url)
    page.click(f"{WIDGET} .bubble")


def eventually(check, timeout: float = 15.0) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, "not in time"
        time.sleep(0.2)


@pytest.mark.parametrize("locale", LOCALES)
def test_a_chinese_faq_entry_added_in_the_console_answers_a_visitor(stack, contexts, locale):
    name = f"Teashop{LOCALES.index(locale)}"
    shop = Shop(stack, name)
    admin = admin_on(shop, contexts, name, locale, "knowledge")
    admin.wait_for_selector("#faq-rows td.empty")
    expect(admin.locator("#handoff-phrases")).to_have_value("human\nagent\nperson\noperator\nrepresentative"
                                                            "\nsomeone\n人工\n客服")

    # Added with a Chinese comma between the keywords.
    admin.fill("#faq-question", QUESTION)
    admin.fill("#faq-answer", "30天内可以退货。")
    admin.type("#faq-keywords", "退货，退款")
    admin.click("#faq-save")
    expect(admin.locator("#faq-rows tr[data-faq] .faq-question")).to_have_text([QUESTION])
    expect(admin.locator("#faq-rows .faq-keywords")).to_have_text(["退货, 退款"])

    # Edited: the answer replaced.
    admin.click("#faq-rows .faq-edit")
    expect(admin.locator("#faq-question")).to_have_value(QUESTION)
    admin.fill("#faq-answer", ANSWER)
    admin.click("#faq-save")
    expect(admin.locator("#faq-rows .faq-answer")).to_have_text([ANSWER])

    # The try-it box: a Chinese question without spaces gets the entry; a stranger goes to a person.
    admin.fill("#faq-try-question", "我想退货怎么办")
    admin.click("#faq-try-run")
    expect(admin.locator("#faq-try-answer blockquote")).to_have_text(ANSWER)
    expect(admin.locator("#faq-try-matches tr.chosen")).to_have_count(1)

    # A phrase of the tenant's own that hands the chat to a person.
    admin.locator("#handoff-phrases").press("Control+End")
    admin.keyboard.type("\n真人")
    admin.click("#handoff-save")
    expect(admin.locator("#handoff-status")).not_to_be_empty()
    assert shop.call("GET", "/v1/settings").json()["handoff_phrases"][-1] == "真人"
    check_screen(admin, "#knowledge-screen", "knowledge", locale)

    admin.fill("#faq-try-question", "付款失败")
    admin.click("#faq-try-run")
    admin.wait_for_selector("#faq-try-handover")
    # The new phrase wins over the confident entry, in the preview as in the bot.
    admin.fill("#faq-try-question", "退货政策，找真人")
    admin.click("#faq-try-run")
    expect(admin.locator("#faq-try-phrase strong")).to_have_text("真人")

    # The visitor asks in Chinese without spaces: the bot answers with the entry, then hands over on 真人.
    visitor = contexts(locale=locale)
    open_widget(visitor, shop.demo_url)
    visitor_says(visitor, "请问怎么退货")
    visitor.wait_for_selector(f"{WIDGET} li.message.bot >> text={ANSWER}")
    visitor_says(visitor, "帮我找真人")
    eventually(lambda: shop.call("GET", "/v1/conversations").json()["items"][0]["status"] != "bot")

    # Deleted: the bot has nothing left to answer with.
    admin.click("#faq-rows .faq-delete")
    admin.wait_for_selector("#faq-rows td.empty")
    assert shop.call("GET", "/v1/faq").json()["items"] == []


@pytest.mark.parametrize("locale", LOCALES)
def test_canned_responses_added_previewed_edited_and_deleted(stack, contexts, locale):
    name = f"Cannery{LOCALES.index(locale)}"
    shop = Shop(stack, name)
    admin = admin_on(shop, contexts, name, locale, "canned")
    admin.wait_for_selector("#canned-rows td.empty")

    admin.type("#canned-shortcut", "/refund")
    admin.type("#canned-text", "Your refund is on its way.")
    expect(admin.locator("#canned-preview code")).to_have_text("/refund")
    expect(admin.locator("#canned-preview-text")).to_have_text("Your refund is on its way.")
    admin.click("#canned-save")
    expect(admin.locator("#canned-rows .canned-shortcut")).to_have_text(["/refund"])

    admin.type("#canned-try", "/re")
    expect(admin.locator("#canned-offered code")).to_have_text(["/refund"])
    check_screen(admin, "#canned-screen", "canned", locale)

    # Edited: renamed and reworded.
    admin.click("#canned-rows .canned-edit")
    admin.fill("#canned-shortcut", "refunds")
    admin.fill("#canned-text", "退款已发出，3到5个工作日到账。")
    admin.click("#canned-save")
    expect(admin.locator("#canned-rows .canned-shortcut")).to_have_text(["/refunds"])
    stored = shop.call("GET", "/v1/canned-responses").json()["items"]
    assert [(c["shortcut"], c["text"]) for c in stored] == [("refunds", "退款已发出，3到5个工作日到账。")]

    admin.click("#canned-rows .canned-delete")
    admin.wait_for_selector("#canned-rows td.empty")
    assert shop.call("GET", "/v1/canned-responses").json()["items"] == []

    # An agent sees none of the three tabs (and the server refuses them the routes anyway).
    shop.add_agent(f"alex@{name.lower()}.com", "Alex Agent")
    agent = contexts(locale=locale)
    shop.sign_in(agent, f"alex@{name.lower()}.com")
    agent.wait_for_selector("#tab-conversations")
    expect(agent.locator("#tab-knowledge, #tab-canned, #tab-keys")).to_have_count(0)


@pytest.mark.parametrize("locale", LOCALES)
def test_api_keys_created_copied_and_revoked(stack, contexts, locale):
    name = f"Keysmith{LOCALES.index(locale)}"
    shop = Shop(stack, name)
    admin = admin_on(shop, contexts, name, locale, "keys", permissions=CLIPBOARD)
    admin.wait_for_selector("#api-key-rows tr[data-key]")  # the key made at sign-up

    admin.fill("#api-key-name", "Order sync")
    admin.select_option("#api-key-role", "agent")
    admin.click("#api-key-create")
    secret = admin.inner_text("#api-key-secret")
    admin.click("#api-key-secret-copy")
    expect(admin.locator("#api-key-secret-copied")).not_to_be_empty()
    assert admin.evaluate("navigator.clipboard.readText()") == secret
    assert shop.call("GET", "/v1/canned-responses", token=secret).status_code == 200

    # The identity secret: shown once, and the state says it is set.
    admin.click("#identity-secret-rotate")
    identity_secret = admin.inner_text("#identity-secret")
    assert len(identity_secret) == 64
    assert shop.call("GET", "/v1/settings").json()["identity_verification"] is True
    check_screen(admin, "#keys-screen", "keys", locale)

    row = admin.locator("#api-key-rows tr", has_text="Order sync")
    row.locator(".api-key-revoke").click()
    expect(row.locator(".api-key-revoke")).to_have_count(0)
    assert shop.call("GET", "/v1/canned-responses", token=secret).status_code == 401


@pytest.mark.parametrize("locale", LOCALES)
def test_a_rotated_widget_key_stops_the_old_snippet_and_the_new_one_works(stack, contexts, locale):
    name = f"Rotor{LOCALES.index(locale)}"
    shop = Shop(stack, name)
    old_page = shop.demo_url
    admin = admin_on(shop, contexts, name, locale, "keys", permissions=CLIPBOARD)
    admin.click("#widget-key-rotate")
    new_key = admin.inner_text("#widget-key-new")
    assert new_key != shop.widget_key
    snippet = admin.inner_text("#widget-snippet")
    assert f'data-widget-key="{new_key}"' in snippet and snippet.startswith("<script type=\"module\"")
    admin.click("#widget-snippet-copy")
    assert admin.evaluate("navigator.clipboard.readText()") == snippet
    if locale == "zh-CN":
        assert_no_english(admin, within="#keys-screen")

    # The page with the old snippet cannot start a chat; a page with the new one can.
    visitor = contexts(locale=locale)
    open_widget(visitor, old_page)
    expect(visitor.locator(f"{WIDGET} .notice")).not_to_be_empty()
    assert visitor.evaluate(f"localStorage.getItem('switchboard:{shop.widget_key}')") is None
    refused = requests.post(f"{stack.base}/v1/widget/{shop.widget_key}/sessions", json={}, timeout=30)
    assert refused.status_code == 404

    open_widget(visitor, f"{stack.base}/demo?widget_key={new_key}")
    visitor_says(visitor, "Hello with the new key")
