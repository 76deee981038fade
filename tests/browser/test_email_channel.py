"""The email channel in headless Chromium, in Chinese: an email in (POST /dev/inbound-email) reaches the
agent's console marked as email, the agent answers there, the answer is in the local outbox as a threaded
reply; Settings shows the inbound address; the console links to the outbox on the local stack."""
from __future__ import annotations

import time

import pytest
import requests
from playwright.sync_api import expect

from tests.browser.checks import assert_accessible, assert_no_english
from tests.browser.conftest import Shop, online_agent, screenshot
from tests.email_mail import email

pytestmark = [pytest.mark.e2e, pytest.mark.browser]


def replies(shop: Shop, timeout: float = 20) -> list[dict]:
    deadline = time.monotonic() + timeout
    while True:
        items = requests.get(f"{shop.stack.base}/dev/outbox", timeout=10).json()["items"]
        found = [item for item in items if item["to"] == "lin@example.cn"]
        if found or time.monotonic() > deadline:
            return found
        time.sleep(0.3)


def test_an_email_answered_in_the_console_in_chinese(stack, contexts):
    shop = Shop(stack, "Mailzh")
    shop.add_agent("kim@mail.zh", "Kim")
    address = shop.call("GET", "/v1/settings").json()["inbound_email_address"]
    page = contexts(locale="zh-CN")
    online_agent(shop, page, "kim@mail.zh")
    raw = email(address, "你好，我的包裹在哪里？", sender="lin@example.cn", name="林", subject="包裹",
                message_id="<zh-1@example.cn>")
    assert requests.post(f"{stack.base}/dev/inbound-email", data=raw, timeout=10).status_code == 202

    expect(page.locator("#mine li .channel-mark")).to_have_text("邮件")
    page.click("#mine li button.conversation")
    expect(page.locator(".chat-header .channel-mark")).to_be_visible()
    expect(page.locator("#dev-outbox")).to_be_visible()
    assert_no_english(page, within="#conversations")
    assert_accessible(page, context="#conversations")
    screenshot(page, "email-channel.zh-CN")
    page.fill("#reply", "已经发货了，明天到。")
    page.click("#send")
    [reply] = replies(shop)
    assert reply["subject"] == "Re: 包裹" and reply["headers"]["In-Reply-To"] == "<zh-1@example.cn>"
    # The answer's line says it went out (a message.email frame from the replies consumer).
    expect(page.locator("#messages li.own .email-status")).to_have_text("已通过邮件发送")
    assert reply["text"].startswith("已经发货了，明天到。") and "（" in reply["from"]

    admin = contexts(locale="zh-CN")
    online_agent(shop, admin, "admin@mailzh.com")
    admin.click("#tab-settings")
    expect(admin.locator("#setting-inbound-email-address")).to_have_value(address)
    assert_no_english(admin, within="#inbound-email")
    assert_accessible(admin, context="#inbound-email")
