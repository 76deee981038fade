"""The widget speaks the visitor's language: data-locale on its tag, else the browser's, else the
tenant's default. In Chinese every text of the widget is Chinese (launcher, panel, queue position,
assignment, typing, chat ended, survey, offline form); names and messages are data. Checked with
axe (WCAG 2.1 A/AA, contrast included) and keyboard use (focus into the panel, Esc closes)."""
from __future__ import annotations

import pytest
import requests
from playwright.sync_api import expect

from tests.browser.checks import assert_accessible, assert_no_english
from tests.browser.conftest import WIDGET, Shop, screenshot
from tests.browser.widget_pages import agent_online, shadow_focus, tenant_site

pytestmark = [pytest.mark.e2e, pytest.mark.browser]
CLOSED_ALL_WEEK = {day: [] for day in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")}


def write(page, text: str) -> None:
    page.fill(f"{WIDGET} .composer textarea", text)
    page.keyboard.press("Enter")
    page.wait_for_selector(f"{WIDGET} li.message.visitor:not(.sending) >> text={text}")


def test_data_locale_zh_cn_shows_chinese_throughout_a_chat(stack, contexts):
    shop = Shop(stack, "Teapots")
    shop.add_agent("li@teapots.com", "Li Wei")
    shop.settings(survey_delay_seconds=0)
    visitor = contexts(locale="en-US")  # the page's data-locale wins over the browser
    sessions = []
    visitor.on("request", lambda request: sessions.append(request.post_data_json)
               if request.url.endswith("/sessions") and request.method == "POST" else None)
    tenant_site(visitor, shop, locale="zh-CN")
    expect(visitor.locator(f"{WIDGET} .bubble")).to_have_text("在线咨询")
    assert_no_english(visitor, WIDGET)

    visitor.focus(f"{WIDGET} .bubble")
    visitor.keyboard.press("Enter")  # keyboard only: the panel opens with the focus in it
    expect(visitor.locator(f"{WIDGET} .panel")).to_be_visible()
    assert shadow_focus(visitor) == "textarea"
    expect(visitor.locator(f"{WIDGET} .greeting")).to_have_text("您好！请问今天有什么可以帮您？")
    assert_no_english(visitor, WIDGET)
    assert_accessible(visitor, WIDGET)

    write(visitor, "你好，我的茶壶到了吗？")  # no FAQ, nobody online: queued
    expect(visitor.locator(f"{WIDGET} .notice")).to_have_text("您目前排在第 1 位，客服将尽快为您服务。")
    assert sessions[-1]["locale"] == "zh-CN"
    with agent_online(shop, "li@teapots.com") as agent:
        conversation_id = agent.wait_for("conversation.assigned")["conversation_id"]
        expect(visitor.locator(f"{WIDGET} .notice")).to_have_text("正在为您服务的是 Li Wei。")
        agent.typing(conversation_id)
        expect(visitor.locator(f"{WIDGET} .typing")).to_have_text("客服正在输入…")
        agent.say(conversation_id, "Your teapot ships today.")
        visitor.wait_for_selector(f"{WIDGET} li.message.agent >> text=Your teapot ships today.")
        expect(visitor.locator(f"{WIDGET} li.message.visitor .who")).to_have_text("您")
        assert_no_english(visitor, WIDGET)  # the agent's name and words are data
        screenshot(visitor, "widget.zh-CN")
        agent.close(conversation_id)
    expect(visitor.locator(f"{WIDGET} .notice")).to_have_text(
        "本次对话已结束。如需帮助，随时可以再次发消息开始新的对话。")
    expect(visitor.locator(f"{WIDGET} .divider")).to_have_text("对话已结束")
    requests.post(f"{stack.base}/dev/jobs/send-surveys", timeout=30).raise_for_status()  # shown below
    expect(visitor.locator(f"{WIDGET} .survey p").first).to_have_text("您对本次对话满意吗？")
    visitor.click(f"{WIDGET} .send-survey")
    expect(visitor.locator(f"{WIDGET} .survey-status")).to_have_text("请选择一个评分。")
    assert_no_english(visitor, WIDGET)
    assert_accessible(visitor, WIDGET)
    visitor.click(f"{WIDGET} .star[aria-label='4 分（满分 5 分）']")
    visitor.click(f"{WIDGET} .send-survey")
    expect(visitor.locator(f"{WIDGET} .survey-status")).to_have_text("感谢您的反馈！")
    visitor.click(f"{WIDGET} .composer textarea")
    visitor.keyboard.press("Escape")  # Esc closes the panel; the focus goes back to the bubble
    expect(visitor.locator(f"{WIDGET} .panel")).to_be_hidden()
    assert shadow_focus(visitor) == "bubble"


def test_out_of_hours_the_chinese_offline_form_leaves_a_message_in_the_queue(stack, contexts):
    shop = Shop(stack, "Kettles")
    shop.settings(business_hours=CLOSED_ALL_WEEK)
    visitor = contexts(locale="zh-CN")
    tenant_site(visitor, shop, locale="zh-CN")
    visitor.click(f"{WIDGET} .bubble")
    form = visitor.locator(f"{WIDGET} form.offline")
    expect(form.locator("h3")).to_have_text("我们现在不在线")
    expect(visitor.locator(f"{WIDGET} .offline-message")).to_have_text(
        "我们现在不在线。请留言，我们回来后会尽快答复您。")  # the tenant left the text as it came: ours, in Chinese
    expect(visitor.locator(f"{WIDGET} .composer")).to_be_hidden()
    assert shadow_focus(visitor) == "input"  # the focus is in the form: its first field
    assert_no_english(visitor, WIDGET)
    assert_accessible(visitor, WIDGET)
    screenshot(visitor, "widget-offline.zh-CN")

    form.get_by_label("您的电子邮箱").fill("wang@example.com")
    form.get_by_label("您的姓名").fill("王芳")
    form.get_by_label("您的留言").fill("我想退货，请联系我。")
    form.locator("button[type=submit]").click()
    visitor.wait_for_selector(f"{WIDGET} li.message.visitor:not(.sending) >> text=我想退货，请联系我。")
    expect(visitor.locator(f"{WIDGET} .notice")).to_have_text("您目前排在第 1 位，客服将尽快为您服务。")
    visitor.wait_for_selector(f"{WIDGET} li.message.system")  # the server's offline notice
    assert_no_english(visitor, WIDGET)
    (waiting,) = shop.call("GET", "/v1/conversations").json()["items"]
    assert waiting["status"] == "queued"
    profile = shop.call("GET", f"/v1/visitors/{waiting['visitor_id']}").json()
    assert (profile["name"], profile["email"]) == ("王芳", "wang@example.com")


@pytest.mark.parametrize("data_locale, browser_locale, tenant_default, launcher", [
    (None, "zh-CN", "en", "在线咨询"),          # no data-locale: the browser's
    (None, "en-US", "zh-CN", "Chat with us"),   # the browser wins over the tenant's default
    (None, "fr-FR", "zh-CN", "在线咨询"),       # a browser language we do not speak: the tenant's default
    ("en", "zh-CN", "zh-CN", "Chat with us"),   # the page wins over both
    ("zh-TW", "de-DE", "en", "Chat with us"),   # Traditional Chinese is not our Simplified catalog
])
def test_the_language_is_the_pages_else_the_browsers_else_the_tenants(stack, contexts, data_locale, browser_locale,
                                                                      tenant_default, launcher):
    shop = Shop(stack, f"Rugs{len(launcher)}{browser_locale}")
    shop.settings(default_locale=tenant_default)
    visitor = contexts(locale=browser_locale)
    tenant_site(visitor, shop, **({"locale": data_locale} if data_locale else {}))
    expect(visitor.locator(f"{WIDGET} .bubble")).to_have_text(launcher)
    with visitor.expect_request(lambda request: request.url.endswith("/sessions")) as started:
        visitor.click(f"{WIDGET} .bubble")
        write(visitor, "hello")
    assert started.value.post_data_json["locale"] == ("zh-CN" if launcher == "在线咨询" else "en")
