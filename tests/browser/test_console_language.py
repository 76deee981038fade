"""The console's own language in a browser: a Chinese browser gets a Chinese sign-in form and frame; an agent
who picks English in the Account tab keeps it at their next sign-in from any browser; the sign-in form's
picker holds for this browser; server errors come in the agent's language; the two-factor screens too."""
from __future__ import annotations

import pyotp
from playwright.sync_api import expect

from devstack.harness import PASSWORD
from tests.browser.checks import assert_accessible, assert_no_english
from tests.browser.conftest import Shop, screenshot
from tests.browser.test_two_factor import next_step_code

VIEW = ".view"  # the open screen (the top bar and the toast are outside it)


def chinese_page(contexts):
    return contexts(locale="zh-CN")


def test_a_chinese_browser_gets_a_chinese_console_until_the_agent_picks_english(stack, contexts):
    shop = Shop(stack, "Teas")
    page = chinese_page(contexts)
    page.goto(f"{stack.base}/app")
    page.wait_for_selector("#login")
    expect(page.locator("html")).to_have_attribute("lang", "zh-CN")
    expect(page.locator("#sign-in")).to_have_text("登录")
    expect(page.locator("#sign-in-language option[value=zh-CN]")).to_have_text("简体中文")
    assert_no_english(page)
    assert_accessible(page)
    screenshot(page, "sign-in.zh-CN")

    # A refusal from the server (its message is English) in the agent's language.
    page.fill("#tenant", shop.tenant_id)
    page.fill("#email", "admin@teas.com")
    page.fill("#password", "not the password")
    page.click("#sign-in")
    expect(page.locator("#login-error")).to_have_text("工作区、邮箱或密码错误。")
    assert_no_english(page)

    # The admin has no language of their own (null): the browser's.
    page.fill("#password", PASSWORD)
    page.click("#sign-in")
    page.wait_for_selector("#connection[data-state=online]")
    expect(page.locator("#tab-account")).to_have_text("账户")
    expect(page.locator("#sign-out")).to_have_text("退出登录")
    expect(page.locator("#me")).to_contain_text("（管理员）")
    expect(page.locator("#presence option[value=away]")).to_have_text("离开")
    expect(page.locator("#connection")).to_have_text("已连接")
    assert_no_english(page, "header.topbar")
    assert_accessible(page, "header.topbar")

    page.click("#tab-security")
    page.wait_for_selector("#two-factor-agents tr")
    expect(page.locator("#two-factor-agents .two-factor-status")).to_have_text("未开启")
    assert_no_english(page, VIEW)
    assert_accessible(page, VIEW)
    screenshot(page, "security.zh-CN")

    page.click("#tab-sso")
    page.wait_for_selector("#sso-form")
    expect(page.locator("#sso-status")).to_have_text("尚未设置。")
    assert_no_english(page, VIEW)
    assert_accessible(page, VIEW)

    # A server error code the console knows, shown in Chinese in the toast: the issuer is not reachable.
    page.fill("#sso-issuer", "http://127.0.0.1:9/nowhere")
    page.fill("#sso-client-id", "switchboard")
    page.fill("#sso-client-secret", "secret")
    page.click("#sso-save")
    # invalid_input: the server's words (they name the field) stay as they are, inside a Chinese frame.
    expect(page.locator("#sso-status.error")).to_contain_text("输入有误：")
    expect(page.locator("#sso-status span[translate=no]")).not_to_be_empty()
    assert_no_english(page, "#sso-status")

    page.click("#tab-account")
    page.wait_for_selector("#totp-status")
    expect(page.locator("#account-locale")).to_have_value("")  # the browser's
    assert_no_english(page, VIEW)
    assert_accessible(page, VIEW)
    screenshot(page, "account.zh-CN")

    # English, for this agent: the whole console turns English at once, and the server keeps it.
    page.select_option("#account-locale", "en")
    expect(page.locator("#tab-account")).to_have_text("Account")
    expect(page.locator("html")).to_have_attribute("lang", "en")
    expect(page.locator("#sign-out")).to_have_text("Sign out")
    expect(page.locator("#totp-status")).to_have_text("Off: your password alone signs you in.")
    expect(page.locator("#account-locale")).to_have_value("en")
    screenshot(page, "account")
    page.click("#tab-security")
    page.wait_for_selector("#two-factor-agents tr")
    expect(page.locator("#two-factor-agents .two-factor-status")).to_have_text("Off")
    screenshot(page, "security")
    me = shop.call("GET", "/v1/me", token=page.evaluate(
        "JSON.parse(sessionStorage.getItem('switchboard.console')).token")).json()
    assert me["agent"]["locale"] == "en"

    # Another Chinese browser (nothing remembered in it): the form is Chinese, the console the agent's English.
    other = chinese_page(contexts)
    other.goto(f"{stack.base}/app")
    expect(other.locator("#sign-in")).to_have_text("登录")
    shop.sign_in(other, "admin@teas.com")
    other.wait_for_selector("#connection[data-state=online]")
    expect(other.locator("#tab-account")).to_have_text("Account")
    expect(other.locator("html")).to_have_attribute("lang", "en")

    # Back to the browser's language.
    other.click("#tab-account")
    other.select_option("#account-locale", "")
    expect(other.locator("#tab-account")).to_have_text("账户")


def test_the_sign_in_forms_picker_holds_for_this_browser_and_for_an_agent_without_a_language(stack, contexts):
    shop = Shop(stack, "Pens")
    page = chinese_page(contexts)
    page.goto(f"{stack.base}/app")
    page.wait_for_selector("#login")
    page.fill("#email", "admin@pens.com")
    page.select_option("#sign-in-language", "en")
    expect(page.locator("#sign-in")).to_have_text("Sign in")
    expect(page.locator("#email")).to_have_value("admin@pens.com")  # what was typed stays
    expect(page.locator("#sign-in-language")).to_be_focused()
    screenshot(page, "sign-in")
    page.reload()
    expect(page.locator("#sign-in")).to_have_text("Sign in")
    shop.sign_in(page, "admin@pens.com")
    page.wait_for_selector("#connection[data-state=online]")
    expect(page.locator("#tab-account")).to_have_text("Account")


def test_two_factor_set_up_and_sign_in_in_chinese(stack, contexts):
    shop = Shop(stack, "Inks")
    shop.add_agent("lin@inks.com", "Lin Agent")
    page = chinese_page(contexts)
    shop.sign_in(page, "lin@inks.com")
    page.click("#tab-account")
    page.click("#totp-set-up")
    page.wait_for_selector("#totp-secret")
    assert_no_english(page, VIEW)
    assert_accessible(page, VIEW)
    secret = page.inner_text("#totp-secret").replace(" ", "")
    page.fill("#totp-confirm-code", "000000" if pyotp.TOTP(secret).now() != "000000" else "111111")
    page.click("#totp-confirm")
    expect(page.locator("#totp-confirm-error")).to_have_text("验证码错误或已被使用。")
    page.fill("#totp-confirm-code", pyotp.TOTP(secret).now())
    page.click("#totp-confirm")
    expect(page.locator("#recovery-codes li")).to_have_count(10)
    assert_no_english(page, VIEW)
    assert_accessible(page, VIEW)
    page.click("#recovery-done")
    expect(page.locator("#totp-status")).to_contain_text("剩余 10 个恢复码")
    assert_no_english(page, VIEW)

    page.click("#sign-out")
    shop.sign_in(page, "lin@inks.com")
    page.wait_for_selector("#second-factor")
    expect(page.locator("label.check")).to_have_text("在此设备上记住我 30 天")
    assert_no_english(page)
    assert_accessible(page)
    page.click("#use-recovery")
    expect(page.locator("#second-factor-label")).to_have_text("请输入您的一个恢复码")
    page.click("#use-recovery")
    page.fill("#totp-code", next_step_code(secret))
    page.click("#verify")
    page.wait_for_selector("#connection[data-state=online]")
    expect(page.locator("#tab-account")).to_have_text("账户")


# api.js turns a refusal into a message of the console's language, whatever code the server sends.
EXPLAIN = """async () => {
  const {ApiError, errorText} = await import(new URL("assets/api.js", document.baseURI).href);
  const unknown = new ApiError(409, {code: "brand_new_code", message: "Something new happened."});
  const shown = document.createElement("p");
  shown.append(...unknown.parts());
  return {unknown: unknown.message, shown: shown.innerHTML,
          known: new ApiError(409, {code: "email_taken", message: "An agent with this email already exists."}).message,
          bare: new ApiError(502, {}, "fallback").message,
          frame: errorText("conversation_closed", "This conversation is closed.")};
}"""


def test_server_errors_come_in_the_consoles_language_and_unknown_ones_keep_the_servers_words(stack, contexts):
    page = chinese_page(contexts)
    page.goto(f"{stack.base}/app")
    page.wait_for_selector("#login")
    assert page.evaluate(EXPLAIN) == {
        "unknown": "请求失败：Something new happened.",
        "shown": '请求失败：<span translate="no">Something new happened.</span>',
        "known": "已有客服使用此邮箱。", "bare": "fallback", "frame": "此对话已结束。"}
    page.select_option("#sign-in-language", "en")
    expect(page.locator("#sign-in")).to_have_text("Sign in")
    # The server's words are English already, and the most precise: an English console shows them as they are.
    assert page.evaluate(EXPLAIN) == {
        "unknown": "Something new happened.", "shown": "Something new happened.",
        "known": "An agent with this email already exists.", "bare": "fallback",
        "frame": "This conversation is closed."}
