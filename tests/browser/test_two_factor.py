"""Two-factor sign-in in the browser: an agent sets it up from the Account tab (the secret read off the
page, the code computed as an authenticator app would), then signs in with a code, with a remembered
device, and with a recovery code; and where the workspace requires it, an agent without it is walked
through enrolment before anything else of the console shows."""
from __future__ import annotations

import time

import pyotp
from playwright.sync_api import expect

from devstack.harness import PASSWORD
from tests.browser.conftest import Shop, screenshot


def set_up_two_factor(page) -> tuple[str, list[str]]:
    """The enrolment flow on screen: the QR code and key, a first code, the recovery codes once."""
    page.wait_for_selector("#totp-secret")
    assert page.get_attribute("#totp-qr", "src").startswith("data:image/svg+xml")
    secret = page.inner_text("#totp-secret").replace(" ", "")
    screenshot(page, "console-two-factor-setup")
    page.fill("#totp-confirm-code", pyotp.TOTP(secret).now())
    page.click("#totp-confirm")
    expect(page.locator("#recovery-codes li")).to_have_count(10)
    codes = page.locator("#recovery-codes li").all_inner_texts()
    page.click("#recovery-done")
    return secret, codes


def next_step_code(secret: str) -> str:
    """A code one step ahead (accepted: one step of drift), so the step enrolment used is not replayed."""
    return pyotp.TOTP(secret).at(time.time() + 30)


def test_enrol_from_the_account_tab_then_sign_in_with_a_code_a_device_and_a_recovery_code(stack, contexts):
    shop = Shop(stack, "Kites")
    shop.add_agent("kim@kites.com", "Kim Agent")
    page = contexts()
    shop.sign_in(page, "kim@kites.com")
    page.click("#tab-account")
    expect(page.locator("#totp-status")).to_have_attribute("data-status", "none")
    page.click("#totp-set-up")
    secret, codes = set_up_two_factor(page)
    expect(page.locator("#totp-status")).to_have_attribute("data-status", "active")
    expect(page.locator("#totp-status")).to_contain_text("10 recovery codes left")

    page.click("#sign-out")
    shop.sign_in(page, "kim@kites.com")
    page.wait_for_selector("#second-factor")
    assert page.get_attribute("#totp-code", "autocomplete") == "one-time-code"
    screenshot(page, "console-two-factor-sign-in")
    page.fill("#totp-code", "000000" if next_step_code(secret) != "000000" else "111111")
    page.click("#verify")
    expect(page.locator("#second-factor-error")).not_to_be_empty()
    page.fill("#totp-code", next_step_code(secret))
    expect(page.locator("label.check")).to_have_text("Remember this device for 30 days")  # the tenant's setting
    page.check("#remember-device")
    page.click("#verify")
    page.wait_for_selector("#tab-account")

    page.click("#sign-out")  # this browser is remembered: the password alone signs in
    shop.sign_in(page, "kim@kites.com")
    page.wait_for_selector("#tab-account")
    assert page.query_selector("#second-factor") is None

    page.click("#sign-out")
    page.evaluate("Object.keys(localStorage).filter((k) => k.includes('.device.'))"
                  ".forEach((k) => localStorage.removeItem(k))")
    shop.sign_in(page, "kim@kites.com")
    page.click("#use-recovery")
    page.fill("#recovery-code", codes[0])
    page.click("#verify")
    page.click("#tab-account")
    expect(page.locator("#totp-status")).to_contain_text("9 recovery codes left")

    page.click("#totp-off")  # turned off with the password: the password alone signs in again
    page.fill("#totp-off-password", PASSWORD)
    page.click("#totp-off-confirm")
    expect(page.locator("#totp-status")).to_have_attribute("data-status", "none")
    page.click("#sign-out")
    shop.sign_in(page, "kim@kites.com")
    page.wait_for_selector("#tab-account")


def test_a_required_second_factor_walks_an_agent_through_enrolment_first(stack, contexts):
    shop = Shop(stack, "Masts")
    shop.settings(totp_required=True)
    shop.add_agent("max@masts.com", "Max Agent")
    page = contexts()
    shop.sign_in(page, "max@masts.com")
    page.wait_for_selector("#enrolment-required")
    assert page.query_selector("#tab-conversations") is None and page.query_selector("#tab-account") is None
    secret, codes = set_up_two_factor(page)
    page.wait_for_selector("#tab-conversations")
    page.wait_for_selector("#connection[data-state=online]")  # the same session, now a full one

    page.click("#tab-account")  # new recovery codes, for a code newer than the one enrolment used
    page.click("#totp-new-codes")
    page.fill("#totp-new-codes-code", next_step_code(secret))
    page.click("#totp-new-codes-confirm")
    expect(page.locator("#recovery-codes li")).to_have_count(10)
    assert not set(page.locator("#recovery-codes li").all_inner_texts()) & set(codes)
    page.click("#recovery-done")
    expect(page.locator("#totp-status")).to_contain_text("10 recovery codes left")

    page.click("#sign-out")
    shop.sign_in(page, "max@masts.com")
    page.wait_for_selector("#second-factor")


def enrolled_through_the_api(shop: Shop, email: str) -> None:
    token = shop.stack.post("/v1/auth/login", {"tenant_id": shop.tenant_id, "email": email,
                                               "password": PASSWORD}).json()["token"]
    secret = shop.call("POST", "/v1/auth/totp", token=token).json()["secret"]
    confirmed = shop.call("POST", "/v1/auth/totp/confirm", {"code": pyotp.TOTP(secret).now()}, token=token)
    assert confirmed.status_code == 200, confirmed.text


def test_an_admin_sees_each_agents_two_factor_resets_it_and_requires_it(stack, contexts):
    shop = Shop(stack, "Sails")
    agent = shop.add_agent("sol@sails.com", "Sol Agent")
    enrolled_through_the_api(shop, "sol@sails.com")
    page = contexts()
    shop.sign_in(page, "admin@sails.com")
    page.click("#tab-security")
    row = page.locator(f"tr[data-agent={agent['agent_id']}]")
    expect(row.locator(".two-factor-status")).to_have_text("On")
    screenshot(page, "console-security")
    page.once("dialog", lambda dialog: dialog.accept())
    row.locator(".reset-2fa").click()
    expect(row.locator(".two-factor-status")).to_have_text("Off")
    page.check("#require-2fa")
    expect(page.locator("#require-2fa-saved")).to_have_text("Saved.")
    assert shop.call("GET", "/v1/settings").json()["totp_required"] is True
