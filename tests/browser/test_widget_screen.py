"""The admin's Widget tab: the admin styles the widget (colour, position, greeting, button text, pre-chat
questions, default language), the live preview (the real widget in a same-origin frame) follows every
change before it is saved, the tenant's pages show the saved style, and the embed code copies."""
from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.browser.checks import assert_accessible, assert_no_english
from tests.browser.conftest import WIDGET, Shop, screenshot

pytestmark = [pytest.mark.e2e, pytest.mark.browser]


def open_widget_tab(shop: Shop, page) -> None:
    shop.sign_in(page, f"admin@{shop.tenant_name}.com")
    page.click("#tab-widget")
    page.wait_for_selector("#widget-screen #widget-form")


def css(locator, prop: str) -> str:
    return locator.evaluate(f"(node) => getComputedStyle(node).getPropertyValue('{prop}')")


def test_an_admin_styles_the_widget_with_a_live_preview_and_copies_the_embed_code(stack, contexts):
    shop = Shop(stack, "Lanterns")
    shop.tenant_name = "lanterns"
    admin = contexts(permissions=["clipboard-read", "clipboard-write"])
    open_widget_tab(shop, admin)
    preview = admin.frame_locator("#widget-preview")
    bubble = preview.locator(f"{WIDGET} .bubble")
    expect(bubble).to_have_text("Chat with us")
    expect(preview.locator(f"{WIDGET} .panel")).to_be_visible()  # the preview shows the open panel
    expect(bubble).to_have_css("background-color", "rgb(31, 95, 191)")  # the default, white text on it (6.1:1)
    assert css(bubble, "color") == "rgb(255, 255, 255)"
    assert_accessible(admin, "#widget-screen")

    # Every change shows in the preview at once, before it is saved.
    admin.fill("#widget-color", "#0a7c42")
    expect(bubble).to_have_css("background-color", "rgb(10, 124, 66)")
    assert css(bubble, "color") == "rgb(255, 255, 255)"
    admin.fill("#widget-color", "#ffd166")  # a light colour: the text turns black
    expect(bubble).to_have_css("color", "rgb(0, 0, 0)")
    admin.select_option("#widget-position", "bottom-left")
    expect(bubble).to_have_css("left", "20px")
    admin.fill("#widget-greeting-en", "Welcome to Lanterns! Ask us anything.")
    expect(preview.locator(f"{WIDGET} .greeting")).to_have_text("Welcome to Lanterns! Ask us anything.")
    admin.fill("#widget-launcher-en", "Ask Lanterns")
    admin.fill("#widget-launcher-zh-CN", "问问灯笼店")
    expect(bubble).to_have_text("Ask Lanterns")
    admin.select_option("#widget-prechat-name", "required")
    admin.select_option("#widget-prechat-email", "optional")
    expect(preview.locator(f"{WIDGET} form.prechat input")).to_have_count(2)
    admin.select_option("#widget-preview-locale", "zh-CN")
    expect(bubble).to_have_text("问问灯笼店")
    expect(preview.locator(f"{WIDGET} .greeting")).to_have_text("您好！请问今天有什么可以帮您？")  # none in Chinese
    assert shop.call("GET", "/v1/settings").json()["widget"]["color"] == "#1f5fbf"  # nothing saved yet

    admin.click("#widget-save")
    expect(admin.locator("#widget-status")).to_have_text("Saved.")
    assert shop.call("GET", "/v1/settings").json()["widget"] == {
        "color": "#ffd166", "position": "bottom-left", "greeting": {"en": "Welcome to Lanterns! Ask us anything."},
        "launcher_text": {"en": "Ask Lanterns", "zh-CN": "问问灯笼店"},
        "prechat_fields": [{"field": "name", "required": True}, {"field": "email", "required": False}]}

    # The embed code, with the language the pages want, copied as shown.
    admin.select_option("#widget-snippet-locale", "zh-CN")
    snippet = admin.inner_text("#widget-snippet")
    assert snippet == (f'<script type="module" src="{stack.base}/widget.js" data-widget-key="{shop.widget_key}" '
                       'data-locale="zh-CN"></script>')
    admin.click("#widget-copy-snippet")
    expect(admin.locator("#widget-copy-status")).to_have_text("Embed code copied.")
    assert admin.evaluate("navigator.clipboard.readText()") == snippet
    screenshot(admin, "widget-screen")

    # The tenant's page shows the saved widget: colour, side, words and the pre-chat form.
    visitor = contexts()
    visitor.goto(shop.demo_url)
    bubble = visitor.locator(f"{WIDGET} .bubble")
    expect(bubble).to_have_text("Ask Lanterns")
    expect(bubble).to_have_css("background-color", "rgb(255, 209, 102)")
    assert (css(bubble, "color"), css(bubble, "left")) == ("rgb(0, 0, 0)", "20px")
    bubble.click()
    expect(visitor.locator(f"{WIDGET} .greeting")).to_have_text("Welcome to Lanterns! Ask us anything.")
    form = visitor.locator(f"{WIDGET} form.prechat")
    form.get_by_label("Your name").fill("Vera")
    form.locator("button[type=submit]").click()
    expect(form).to_be_hidden()
    visitor.fill(f"{WIDGET} textarea[aria-label=Message]", "Do you ship lanterns abroad?")
    visitor.keyboard.press("Enter")
    visitor.wait_for_selector(f"{WIDGET} li.message.visitor:not(.sending)")
    (conversation,) = shop.call("GET", "/v1/conversations").json()["items"]
    assert shop.call("GET", f"/v1/visitors/{conversation['visitor_id']}").json()["name"] == "Vera"
    assert_accessible(visitor, WIDGET)  # black on the tenant's yellow passes AA too


def test_the_widget_tab_in_chinese(stack, contexts):
    shop = Shop(stack, "Fans")
    shop.tenant_name = "fans"
    admin = contexts(locale="zh-CN")
    open_widget_tab(shop, admin)
    expect(admin.locator("#widget-screen h2")).to_have_text("聊天插件")
    bubble = admin.frame_locator("#widget-preview").locator(f"{WIDGET} .bubble")
    expect(bubble).to_have_text("在线咨询")  # the preview speaks the admin's language first
    admin.select_option("#widget-preview-locale", "en")
    expect(bubble).to_have_text("Chat with us")
    admin.select_option("#widget-preview-locale", "zh-CN")
    expect(bubble).to_have_text("在线咨询")
    admin.select_option("#widget-default-locale", "zh-CN")
    admin.click("#widget-save")
    expect(admin.locator("#widget-status")).to_have_text("已保存。")
    assert shop.call("GET", "/v1/settings").json()["default_locale"] == "zh-CN"
    assert_no_english(admin, "#widget-screen")
    assert_accessible(admin, "#widget-screen")
    screenshot(admin, "widget-screen.zh-CN")


def test_an_agent_has_no_widget_tab(stack, contexts):
    shop = Shop(stack, "Vases")
    shop.add_agent("ann@vases.com", "Ann Agent")
    agent = contexts()
    shop.sign_in(agent, "ann@vases.com")
    agent.wait_for_selector("#tab-conversations")
    expect(agent.locator("#tab-widget")).to_have_count(0)
    assert shop.call("GET", "/v1/widget-embed", token=None).status_code == 200  # the admin may
