"""The pages a survey email links to, in headless Chromium against the local stack: the survey page and the
unsubscribe page speak the language the visitor chatted in, are usable by keyboard and pass axe."""
from __future__ import annotations

import re
from contextlib import ExitStack

import pytest
import requests
from playwright.sync_api import expect

from devstack.harness import RunningStack, sign_up
from tests.browser.checks import assert_accessible, assert_no_english
from tests.browser.conftest import screenshot
from tests.e2e.test_surveys_e2e import chat_and_close, outbox

pytestmark = [pytest.mark.e2e, pytest.mark.browser]

WORDS = {
    "en": {"title": "How did we do?", "question": "How would you rate this conversation?",
           "choose": "Please choose a rating.", "thanks": "Thank you for your answer.",
           "unsubscribe": "Unsubscribe", "unsubscribed": "You are unsubscribed"},
    "zh-CN": {"title": "我们的服务怎么样？", "question": "您对这次对话的体验如何评价？", "choose": "请选择一个评分。",
              "thanks": "感谢您的评价。", "unsubscribe": "退订邮件", "unsubscribed": "您已退订"},
}


def emailed_survey(stack: RunningStack, locale: str) -> dict:
    """The survey email a visitor who chatted in `locale` got once they had left."""
    slug = locale.lower().replace("-", "")
    tenant = sign_up(stack, name="北京小店", admin_email=f"admin@{slug}.shop.example")
    requests.put(stack.base + "/v1/settings", json={"survey_delay_seconds": 0}, timeout=10,
                 headers={"Authorization": f"Bearer {tenant['token']}"}).raise_for_status()
    address = f"guest.{slug}@example.org"
    with ExitStack() as gone:
        chat_and_close(stack, tenant, gone, f"sam@{slug}.shop.example", email=address, locale=locale)
    assert requests.post(stack.base + "/dev/jobs/send-surveys", timeout=30).json()["summary"]["email"] >= 1
    [mail] = outbox(stack, address)
    return mail


@pytest.mark.parametrize("locale", ["en", "zh-CN"])
def test_the_survey_and_unsubscribe_pages_speak_the_visitors_language(stack: RunningStack, contexts, locale: str):
    mail = emailed_survey(stack, locale)
    words = WORDS[locale]
    survey_url = re.search(r"https?://\S+/survey/\S+", mail["text"]).group(0)
    # A browser set to the other language: the page follows the email, not the browser.
    page = contexts(locale="en-US" if locale == "zh-CN" else "zh-CN")
    page.goto(survey_url)
    assert page.get_attribute("html", "lang") == locale
    expect(page).to_have_title(words["title"])
    expect(page.locator("legend")).to_have_text(words["question"])
    if locale == "zh-CN":
        assert_no_english(page)
    assert_accessible(page)
    screenshot(page, "survey-page" if locale == "en" else "survey-page.zh-CN")

    page.click("button[type=submit]")  # no rating chosen
    expect(page.locator("#status")).to_have_text(words["choose"])
    page.check("input[name=rating][value='4']")
    page.fill("#comment", "很好" if locale == "zh-CN" else "Good")
    page.keyboard.press("Tab")  # from the comment to the button, and send it by keyboard
    page.keyboard.press("Enter")
    expect(page.locator("#status")).to_have_text(words["thanks"])
    expect(page.locator("#survey")).to_be_hidden()

    page.goto(mail["headers"]["List-Unsubscribe"].strip("<>"))
    assert page.get_attribute("html", "lang") == locale
    expect(page).to_have_title(words["unsubscribe"])
    if locale == "zh-CN":
        assert_no_english(page)
    assert_accessible(page)
    screenshot(page, "unsubscribe-page" if locale == "en" else "unsubscribe-page.zh-CN")
    page.click("button[type=submit]")
    expect(page).to_have_title(words["unsubscribed"])
    assert page.get_attribute("html", "lang") == locale
