"""The conversation history screen (console-workspace.js) in headless Chromium, in English and in Chinese:
an agent filters, searches the messages, labels and notes a conversation and sees why it came to them; a
supervisor finds it by agent and label and sees the same."""
from __future__ import annotations

import json

import pytest
import requests
from playwright.sync_api import expect
from websockets.sync.client import connect

from tests.browser.checks import assert_accessible, assert_no_english
from tests.browser.conftest import Shop, online_agent, screenshot

pytestmark = [pytest.mark.e2e, pytest.mark.browser]
SCREEN = "#workspace"
ROWS = "#workspace-rows tr[data-id]"


def visitor_writes(shop: Shop, text: str, name: str) -> None:
    session = requests.post(f"{shop.stack.base}/v1/widget/{shop.widget_key}/sessions", json={"name": name},
                            timeout=30).json()
    with connect(f"{session['ws_url']}/?token={session['visitor_token']}", open_timeout=10) as socket:
        socket.send(json.dumps({"action": "message.send", "client_msg_id": "m1", "text": text}))
        while json.loads(socket.recv(timeout=10))["type"] != "ack":
            pass


def search(page, words: str, in_text: bool) -> None:
    page.fill("#workspace-q", words)
    page.set_checked("#workspace-text", in_text)
    page.click("#workspace-apply")


@pytest.mark.parametrize("language", ["en", "zh-CN"])
def test_agent_and_supervisor_work_the_conversation_history(stack, contexts, language: str):
    shop = Shop(stack, "Ws" + language.replace("-", ""))
    kim = shop.add_agent(f"kim@{language}.com", "Kim")
    shop.add_agent(f"sue@{language}.com", "Sue", role="supervisor")
    options = {"locale": language} if language != "en" else {}
    agent = contexts(**options)
    online_agent(shop, agent, f"kim@{language}.com")
    visitor_writes(shop, "你好，我想退货，订单号 A-1234", "Vera")
    visitor_writes(shop, "Where is my parcel?", "Vic")
    expect(agent.locator("#mine li")).to_have_count(2)

    agent.click("#tab-workspace")
    expect(agent.locator(ROWS)).to_have_count(2)
    agent.select_option("#workspace-status", "closed")
    agent.click("#workspace-apply")
    expect(agent.locator(ROWS)).to_have_count(0)
    agent.select_option("#workspace-status", "assigned")
    search(agent, "退货", in_text=False)  # metadata only: no visitor is called that
    expect(agent.locator(ROWS)).to_have_count(0)
    search(agent, "退货", in_text=True)  # Chinese found in the messages without spaces
    expect(agent.locator(ROWS)).to_have_count(1)
    expect(agent.locator(f"{ROWS} .snippet")).to_contain_text("我想退货")

    agent.click(f"{ROWS} .open-conversation")
    expect(agent.locator("#workspace-transcript li")).to_have_count(1)
    expect(agent.locator("#workspace-routing li.decision")).to_have_count(2)
    reasons = agent.locator("#workspace-routing li.decision")
    assert [reasons.nth(i).get_attribute("data-reason") for i in range(2)] == ["new_conversation", "least_loaded"]
    agent.fill("#workspace-label", "退货")
    agent.click("#workspace-add-label")
    expect(agent.locator("#workspace-detail .chip")).to_have_text(["退货×"])
    agent.fill("#workspace-note", "客户已寄回包裹")
    agent.click("#workspace-add-note")
    expect(agent.locator("#workspace-notes .note-text")).to_have_text(["客户已寄回包裹"])
    expect(agent.locator(f"{ROWS} .chip")).to_have_text(["退货"])
    if language == "en":
        expect(agent.locator("#workspace-routing .reason").nth(1)).to_contain_text("least-loaded agent")
    else:
        assert_no_english(agent, within=SCREEN)
        expect(agent.locator("#workspace-routing .reason").nth(1)).to_contain_text("负载最低")
    assert_accessible(agent, context=SCREEN)

    supervisor = contexts(**options)
    shop.sign_in(supervisor, f"sue@{language}.com")
    supervisor.click("#tab-workspace")
    expect(supervisor.locator(ROWS)).to_have_count(2)
    supervisor.wait_for_selector(f"#workspace-agent option[value='{kim['agent_id']}']", state="attached")
    supervisor.select_option("#workspace-agent", kim["agent_id"])
    supervisor.fill("#workspace-tag", "退货")
    supervisor.click("#workspace-apply")
    expect(supervisor.locator(ROWS)).to_have_count(1)
    supervisor.click(f"{ROWS} .open-conversation")
    expect(supervisor.locator("#workspace-notes .note-text")).to_have_text(["客户已寄回包裹"])
    expect(supervisor.locator("#workspace-routing li.decision")).to_have_count(2)
    # The label removed by the supervisor is gone for the agent too.
    supervisor.click("#workspace-detail .chip-remove")
    expect(supervisor.locator("#workspace-detail .chip")).to_have_count(0)
    supervisor.fill("#workspace-label", "VIP 客户")
    supervisor.press("#workspace-label", "Enter")
    expect(supervisor.locator("#workspace-detail .chip")).to_have_text(["vip 客户×"])
    if language != "en":
        assert_no_english(supervisor, within=SCREEN)
    assert_accessible(supervisor, context=SCREEN)
    screenshot(supervisor, "workspace" if language == "en" else "workspace.zh-CN")
    agent.click(f"{ROWS} .open-conversation")
    expect(agent.locator("#workspace-detail .chip")).to_have_text(["vip 客户×"])
