"""The admin's Webhooks screen in headless Chromium, in Chinese, against the local stack: a webhook added with
a URL and an event checkbox (its secret shown once), then a real delivery to a receiver on 127.0.0.1 listed
with its status, attempts and answer."""
from __future__ import annotations

import json

import pytest
from playwright.sync_api import expect
from websockets.sync.client import connect

from tests.browser.checks import assert_accessible, assert_no_english
from tests.browser.conftest import Shop, screenshot
from tests.webhook_receiver import receiver

pytestmark = [pytest.mark.e2e, pytest.mark.browser]


def test_an_admin_adds_a_webhook_in_chinese_sees_the_secret_once_and_a_delivery(stack, contexts):
    shop = Shop(stack, "Hooks")
    page = contexts(locale="zh-CN")
    page.on("dialog", lambda dialog: dialog.accept())
    shop.sign_in(page, "admin@hooks.com")
    page.click("#tab-webhooks")
    page.wait_for_selector("#webhook-rows td.empty")
    with receiver() as endpoint:
        page.fill("#webhook-url", endpoint.url)
        page.get_by_label("会话开始").check()
        page.click("#webhook-add")
        secret = page.locator("#webhook-secret")
        expect(secret).to_contain_text("whsec_")
        [hook] = shop.call("GET", "/v1/webhooks").json()["items"]
        assert hook["events"] == ["conversation.created"]
        # A visitor opens a conversation: the event is delivered to the receiver.
        visitor = shop.call("POST", f"/v1/widget/{shop.widget_key}/sessions", {}).json()
        with connect(f"{stack.ws}/?token={visitor['visitor_token']}", open_timeout=10) as vera:
            vera.send(json.dumps({"action": "message.send", "client_msg_id": "v1", "text": "你好"}))
            vera.recv(timeout=10)
        [got] = endpoint.wait_for(1)
        assert got.signed_by(secret.inner_text())
    page.click("#webhook-show-0")
    expect(page.locator("#webhook-delivery-rows .delivery-status")).to_have_text(["已送达"])
    expect(page.locator("#webhook-delivery-rows .delivery-attempts")).to_have_text(["1"])
    expect(page.locator("#webhook-delivery-rows .delivery-code")).to_have_text(["200"])
    assert_no_english(page, within="#webhooks-screen")
    assert_accessible(page, context="#webhooks-screen")
    screenshot(page, "webhooks.zh-CN")
    page.reload()  # the secret was shown once: it is not on the screen any more
    page.click("#tab-webhooks")
    expect(page.locator("#webhook-rows .webhook-url")).to_have_text([endpoint.url])
    expect(page.locator("#webhook-secret")).to_have_count(0)
    page.click("#webhook-delete-0")
    page.wait_for_selector("#webhook-rows td.empty")
