"""Single sign-on in a browser, as a `make dev` user does it: the seeded demo tenant is registered with the local
stack's test issuer; "Sign in with single sign-on" goes through the issuer's page into the console, an unknown
email comes back to the sign-in form saying why, and the admin's "Single sign-on" tab shows the registration."""
from __future__ import annotations

import re

from playwright.sync_api import expect

from tests.browser.conftest import screenshot


def demo_tenant(stack) -> str:
    match = re.search(r"Demo tenant (\S+)", "".join(stack.output))
    assert match, "the local stack seeds a demo tenant"
    return match.group(1)


def sso_sign_in(stack, page, email: str) -> None:
    page.goto(f"{stack.base}/app")
    page.fill("#tenant", demo_tenant(stack))
    page.click("#sign-in-sso")
    page.wait_for_url(re.compile(r"^http://127\.0\.0\.1:\d+/authorize\?"))  # the issuer's own page
    oidc_port = stack.ports["OIDC"]
    assert page.url.startswith(f"http://127.0.0.1:{oidc_port}/authorize?")
    link = page.locator("a.user", has_text=email)
    if link.count():
        link.click()
    else:
        page.fill("input[name=user]", email)
        page.click("button[type=submit]")


def test_signing_in_with_sso_through_the_issuers_page_opens_the_console(stack, contexts):
    page = contexts()
    sso_sign_in(stack, page, "admin@example.com")
    expect(page.locator("#me")).to_contain_text("(admin)")
    assert "#sso" not in page.url  # the one-time code is gone from the address bar
    page.click("#tab-sso")
    expect(page.locator("#sso-issuer")).to_have_value(f"http://127.0.0.1:{stack.ports['OIDC']}")
    expect(page.locator("#sso-redirect-uri")).to_have_text(f"{stack.base}/v1/auth/sso/callback")
    screenshot(page, "console-sso")


def test_an_email_with_no_agent_comes_back_to_the_sign_in_form_saying_why(stack, contexts):
    page = contexts()
    sso_sign_in(stack, page, "stranger@example.com")
    page.wait_for_selector("#login")
    expect(page.locator("#login-error")).to_have_text(
        "No one in this workspace has your email address. Ask an admin to add you.")
    assert "#sso_error" not in page.url
