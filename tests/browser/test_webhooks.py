"""The admin's Webhooks screen in headless Chromium, in Chinese, against the local stack: a webhook added with
a URL and an event checkbox (its secret shown once), then a real delivery and a test event to a receiver on
127.0.0.1, listed with their status, attempts and answer."""
from __future__ import annotations

import json
import time

import pytest
from playwright.sync_api import expect
from websockets.sync.client import connect

from tests.browser.checks import assert_accessible, assert_no_english
from tests.browser.conftest import Shop, screenshot
from tests.webhook_receiver import receiver

pytestmark = [pytest.mark.e2e, pytest.mark.browser]


def delivered(shop: Shop, webhook_id: str, count: int, timeout: float = 20) -> None:
    """Until the stack has recorded `count` deliveries as succeeded (it records each after the answer came)."""
    deadline = time.monotonic() + timeout
    while True:
        items = shop.call("GET", f"/v1/webhooks/{webhook_id}/deliveries").json()["items"]
        if [item["status"] for item in items] == ["succeeded"] * count:
            return
        assert time.monotonic() < deadline, items
        time.sleep(0.2)


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
        # A test event, sent from the row: signed the same, for this webhook alone.
        page.click("#webhook-test-0")
        expect(page.locator("#webhook-test-status")).to_have_text("测试事件已发出。刷新投递记录即可查看该网址的响应。")
        expect(secret).to_contain_text("whsec_")  # still there to copy
        [_, tested] = endpoint.wait_for(2)
        assert tested.event["type"] == "webhook.test" and tested.signed_by(secret.inner_text())
    delivered(shop, hook["webhook_id"], 2)
    page.click("#webhook-show-0")
    expect(page.locator("#webhook-delivery-rows td:first-child")).to_have_text(["测试事件", "会话开始"])
    expect(page.locator("#webhook-delivery-rows .delivery-status")).to_have_text(["已送达", "已送达"])
    expect(page.locator("#webhook-delivery-rows .delivery-attempts")).to_have_text(["1", "1"])
    expect(page.locator("#webhook-delivery-rows .delivery-code")).to_have_text(["200", "200"])
    assert_no_english(page, within="#webhooks-screen")
    assert_accessible(page, context="#webhooks-screen")
    screenshot(page, "webhooks.zh-CN")
    page.reload()  # the secret was shown once: it is not on the screen any more
    page.click("#tab-webhooks")
    expect(page.locator("#webhook-rows .webhook-url")).to_have_text([endpoint.url])
    expect(page.locator("#webhook-secret")).to_have_count(0)
    page.click("#webhook-delete-0")
    page.wait_for_selector("#webhook-rows td.empty")
