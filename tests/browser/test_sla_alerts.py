"""SLA alerts in headless Chromium against the local stack: the digest's link opens the waiting chat in
the console (after signing in), and Settings turns the alerts off, from the keyboard, in both languages."""
from __future__ import annotations

import json
import re
import time

import pytest
import requests
from playwright.sync_api import expect
from websockets.sync.client import connect

from devstack.harness import PASSWORD
from tests.browser.checks import assert_accessible, assert_no_english
from tests.browser.conftest import Shop
from tests.e2e.test_chat_e2e import frames_until

pytestmark = [pytest.mark.e2e, pytest.mark.browser]


def waiting_chat(shop: Shop, name: str) -> str:
    token = shop.call("POST", f"/v1/widget/{shop.widget_key}/sessions", {"name": name}).json()["visitor_token"]
    with connect(f"{shop.stack.ws}/?token={token}", open_timeout=10) as guest:
        guest.send(json.dumps({"action": "message.send", "client_msg_id": "v1", "text": "hello?"}))
        return str(frames_until(guest, "ack")[-1]["conversation_id"])


def test_the_alerts_link_opens_the_waiting_chat(stack, contexts):
    shop = Shop(stack, "Lagging")
    shop.settings(sla_first_response_seconds=1)
    conversation_id = waiting_chat(shop, "Vera")
    time.sleep(1.2)
    requests.post(stack.base + "/dev/jobs/sla-alerts", timeout=30).raise_for_status()
    [mail] = [m for m in requests.get(stack.base + "/dev/outbox", timeout=30).json()["items"]
              if m["to"] == "admin@lagging.com"]
    link = re.search(r"https?://\S+#conversation=\S+", mail["text"]).group(0)
    assert link.endswith(conversation_id)

    admin = contexts()
    admin.goto(link)
    admin.fill("#tenant", shop.tenant_id)
    admin.fill("#email", "admin@lagging.com")
    admin.fill("#password", PASSWORD)
    admin.click("#sign-in")
    expect(admin.locator("#chat-title")).to_have_text("Vera")
    assert "#conversation" not in admin.url  # a reload opens the lists, not this chat again


@pytest.mark.parametrize("locale", ["en", "zh-CN"])
def test_settings_turn_the_alerts_off_from_the_keyboard(stack, contexts, locale):
    shop = Shop(stack, f"Quiet{locale.replace('-', '')}")
    admin = contexts(locale=locale)
    shop.sign_in(admin, f"admin@quiet{locale.replace('-', '').lower()}.com")
    admin.click("#tab-settings")
    admin.wait_for_selector("#settings-screen form")
    toggle = admin.locator("#setting-sla-alerts-enabled")
    expect(toggle).to_be_checked()
    label = {"en": "Email admins when chats wait past the target with no agent online",
             "zh-CN": "对话等待超过目标时间且没有客服在线时，发邮件通知管理员"}[locale]
    expect(admin.get_by_label(label)).to_have_count(1)
    toggle.focus()
    admin.keyboard.press("Space")
    admin.click("#settings-save")
    expect(admin.locator("#settings-status")).not_to_be_empty()
    assert shop.call("GET", "/v1/settings").json()["sla_alerts_enabled"] is False
    if locale == "zh-CN":
        assert_no_english(admin, within="#settings-screen")
    assert_accessible(admin, context="#settings-screen")
