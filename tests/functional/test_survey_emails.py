"""Survey emails are no phishing tool: nothing a visitor typed in them, the tenant's name only in a
form that cannot carry a link, daily caps per address and per tenant, a one-click unsubscribe per
tenant, and no more email at all to an address that bounced or complained. All on moto."""
from __future__ import annotations

import base64
import html
import json
import re
from email.message import EmailMessage

import jwt
import pytest

import app as app_module
from chalicelib.access.tokens import signer
from chalicelib.mail.suppression import address_hash
from chalicelib.mail.texts import display_name
from devstack.harness import Api, Party, agent, run_job, visitor, ws_event
from tests.functional.test_surveys_and_reports import raw_mail, sent_mail, summary, text_of
from tests.helpers import all_items, sns_event, use_limits

ONE_CLICK = {"Content-Type": "application/x-www-form-urlencoded"}


def surveyed_by_email(api: Api, tenant: dict, staff: Party, emails: list[str], text: str = "hello",
                      **profile: str) -> dict[str, int]:
    """One chat per address, answered and closed by `staff`, its visitor gone; then send-surveys."""
    for email in emails:
        guest = visitor(api, tenant, email=email, **profile)
        guest.send(action="message.send", client_msg_id="v1", text=text)
        conversation_id = guest.of_type("ack")[0]["conversation_id"]
        staff.send(action="message.send", conversation_id=conversation_id, client_msg_id="s1", text="hi")
        staff.send(action="conversation.close", conversation_id=conversation_id, resolution="resolved")
        app_module.websocket_disconnect(ws_event("$disconnect", guest.connection_id), None)
    return run_job("send-surveys")


def shop(api: Api, name: str, admin_email: str) -> tuple[dict, Party]:
    """A tenant surveying at once, and an online agent of it."""
    signed = api.signup(name=name, email=admin_email)
    signed["admin_token"] = api.login(signed["tenant_id"], admin_email)
    api.call("PUT", "/v1/settings", {"survey_delay_seconds": 0}, token=signed["admin_token"])
    staff = agent(api, signed, f"sam.{admin_email}")
    staff.send(action="presence.set", status="online")
    return signed, staff


def to(address: str) -> list[EmailMessage]:
    return [mail for mail in sent_mail() if mail["To"] == address]


def without_random_parts(raw: str) -> str:
    """The mail as sent, less what is random in every mail (the links' tokens, MIME boundaries, ids,
    the date), so that a digit found in it came from the tenant's text."""
    raw = re.sub(r"/v1/(?:surveys|unsubscribe)/[\w.\-]+", "/v1/…", raw)
    raw = re.sub(r"=+\d+=*", "", raw)
    return re.sub(r"(?im)^(?:message-id|date):.*$", "", raw)


def unsubscribe_path(mail: EmailMessage) -> str:
    return "/v1/unsubscribe/" + mail["List-Unsubscribe"].strip("<>").rsplit("/", 1)[1]


def suppressions() -> list[dict]:
    return all_items()["switchboard-test-email-suppressions"]


# --- What an email says -----------------------------------------------------------------------
def test_the_survey_email_holds_nothing_the_visitor_or_the_tenants_settings_typed(api: Api):
    acme, sam = shop(api, "Acme", "admin@acme.com")
    api.call("PUT", "/v1/settings", {"survey_question": "Your card is blocked: unblock it at https://evil.example"},
             token=acme["admin_token"])
    typed = surveyed_by_email(api, acme, sam, ["vera@example.org"],
                              name="<a href=evil>Click here to verify your bank</a>",
                              text="<!-- verify your account at https://evil.example/login -->")
    assert typed == summary(email=1)
    [mail] = to("vera@example.org")
    [raw] = raw_mail()
    readable = "\n".join([*(f"{name}: {value}" for name, value in mail.items()), text_of(mail)])
    for visitor_text in ("evil", "href", "<a", "Click here", "verify", "<!--", "blocked", "unblock", "card"):
        assert visitor_text not in raw and visitor_text not in readable, visitor_text
    assert 'your recent chat with "Acme"' in text_of(mail)
    assert mail["From"] == "surveys@mail.switchboard.example" and mail["Auto-Submitted"] == "auto-generated"
    assert mail.get_content_type() == "text/plain"  # no HTML to inject into


@pytest.mark.parametrize("name, shown", [
    ("Acme Shop", "Acme Shop"), ("7-Eleven", "7-Eleven"), ("Café Zürich", "Café Zürich"), ("北京小店", "北京小店"),
    ("Studio 54 & Sons", "Studio 54 & Sons"),
    ("Your bank: reset your password at evil.example", "Your bank reset your password at evil"),
    ("https://evil.example/reset", "https evil example reset"), ("help@evil.example", "help evil example"),
    ("Call 1-800-555-0199 now", "Call now"), ('<a href="x">Acme</a>', "a href x Acme a"),
    ("\u202eAcme\u200b Shop", "Acme Shop"), ("1234567", None), ("...", None), ("A" * 60, "A" * 40),
])
def test_a_tenant_name_is_shown_without_links_addresses_numbers_or_markup(name: str, shown: str | None):
    assert display_name(name) == shown


def test_a_tenant_named_like_a_phishing_line_cannot_put_its_link_in_the_email(api: Api):
    bank, sam = shop(api, "Your bank: reset your password at evil.example", "admin@bank.example")
    assert surveyed_by_email(api, bank, sam, ["vera@example.org"]) == summary(email=1)
    [mail] = to("vera@example.org")
    assert "evil.example" not in raw_mail()[-1] and "password at evil\"" in text_of(mail)
    nameless, kim = shop(api, "+1 (800) 555-0199", "admin@numbers.example")
    surveyed_by_email(api, nameless, kim, ["kim@example.org"])
    [mail] = to("kim@example.org")
    assert "555" not in without_random_parts(raw_mail()[-1]) and "a business that uses Switchboard" in text_of(mail)
    zurich, lee = shop(api, "Café Zürich", "admin@zurich.example")
    surveyed_by_email(api, zurich, lee, ["lee@example.org"])
    assert raw_mail()[-1].isascii() and '"Café Zürich"' in text_of(to("lee@example.org")[0])  # 7-bit for SES


# --- Caps -------------------------------------------------------------------------------------
def test_the_caps_stop_the_next_email_per_address_and_per_tenant_until_the_next_day(api: Api, clock):
    use_limits(emails_per_address_per_day=2, emails_per_tenant_per_day=3)
    clock.advance(86400 - clock.now() % 86400 + 60)  # early in a UTC day: the test stays within it
    acme, sam = shop(api, "Acme", "admin@acme.com")
    other, kim = shop(api, "Other", "admin@other.example")
    assert surveyed_by_email(api, acme, sam, ["vera@example.org"] * 3) == summary(email=2, capped_address=1)
    # The address cap counts every tenant's emails together.
    assert surveyed_by_email(api, other, kim, ["vera@example.org"]) == summary(capped_address=1)
    assert surveyed_by_email(api, acme, sam, ["kim@example.org", "lee@example.org"]) == summary(
        email=1, capped_tenant=1)
    [refused] = [address for address in ("kim@example.org", "lee@example.org") if not to(address)]
    assert len(to("vera@example.org")) == 2
    # A refused email counted against neither cap: the other tenant still has all three, the address both.
    assert surveyed_by_email(api, other, kim, [refused, refused, "max@example.org"]) == summary(email=3)
    counters = json.dumps(all_items()["switchboard-test-rate-limits"])
    assert "vera" not in counters and address_hash("vera@example.org") in counters  # digests, never addresses

    clock.advance(86400)
    assert surveyed_by_email(api, acme, sam, ["vera@example.org"]) == summary(email=1)


# --- Unsubscribe --------------------------------------------------------------------------------
def test_one_click_unsubscribes_from_that_tenant_only_without_a_session_and_idempotently(api: Api):
    acme, sam = shop(api, "Acme", "admin@acme.com")
    other, kim = shop(api, "Other", "admin@other.example")
    surveyed_by_email(api, acme, sam, ["vera@example.org"])
    [mail] = to("vera@example.org")
    path = unsubscribe_path(mail)

    page = api.client.http.get(path)  # link scanners open links: the page asks, nothing changes
    assert page.status_code == 200 and 'Stop emails from "Acme"' in html.unescape(page.body.decode())
    assert 'method="post"' in page.body.decode()
    assert "form-action 'self'" in page.headers["Content-Security-Policy"]
    assert suppressions() == []
    for _ in range(2):
        done = api.client.http.post(path, headers=ONE_CLICK, body="List-Unsubscribe=One-Click")
        assert done.status_code == 200 and "no more emails" in done.body.decode()
    [entry] = suppressions()
    assert entry["address_hash"]["S"] == address_hash("vera@example.org") and entry["scope"]["S"] == acme["tenant_id"]
    assert "example.org" not in json.dumps(entry)

    assert surveyed_by_email(api, acme, sam, ["vera@example.org"]) == summary(suppressed=1)
    assert surveyed_by_email(api, other, kim, ["VERA@example.org"]) == summary(email=1)


def test_a_forged_or_foreign_token_is_refused_and_changes_nothing(api: Api):
    acme, sam = shop(api, "Acme", "admin@acme.com")
    other, _ = shop(api, "Other", "admin@other.example")
    surveyed_by_email(api, acme, sam, ["vera@example.org"])
    [mail] = to("vera@example.org")
    token = unsubscribe_path(mail).rsplit("/", 1)[1]
    header, payload, signature = token.split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=="))
    moved = base64.urlsafe_b64encode(json.dumps({**claims, "tid": other["tenant_id"]}).encode()).decode().rstrip("=")
    ours = signer()
    refused = {
        "forged: another tenant in the claims": f"{header}.{moved}.{signature}",
        "forged: signed with another key": jwt.encode(claims, "not our secret, though as long as ours", "HS256"),
        "another kind of token (a visitor's)": api.call(
            "POST", f"/v1/widget/{other['widget_key']}/sessions", {}).json_body["visitor_token"],
        "for a tenant that does not exist": ours.issue("unsubscribe", "t_nobody", claims["sub"], 3600).token,
        "garbled": token[:-6] + "abcdef",
    }
    for what, bad in refused.items():
        path = f"/v1/unsubscribe/{bad}"
        for response in (api.client.http.get(path),
                         api.client.http.post(path, headers=ONE_CLICK, body="List-Unsubscribe=One-Click")):
            assert response.status_code == 404 and "not valid" in response.body.decode(), what
    assert suppressions() == []
    assert surveyed_by_email(api, acme, sam, ["vera@example.org"]) == summary(email=1)


# --- Bounces and complaints -----------------------------------------------------------------------
def ses_event(kind: str, *addresses: str, bounce_type: str = "Permanent") -> str:
    """An SES event as its configuration set publishes it to SNS."""
    recipients = [{"emailAddress": address} for address in addresses]
    detail = ({"bounce": {"bounceType": bounce_type, "bounceSubType": "General", "bouncedRecipients": recipients}}
              if kind == "Bounce"
              else {"complaint": {"complainedRecipients": recipients, "complaintFeedbackType": "abuse"}})
    return json.dumps({"eventType": kind, "mail": {"source": "surveys@mail.switchboard.example",
                                                  "destination": list(addresses)}, **detail})


def test_a_bounced_or_complaining_address_gets_no_email_from_any_tenant(api: Api):
    acme, sam = shop(api, "Acme", "admin@acme.com")
    other, kim = shop(api, "Other", "admin@other.example")
    assert app_module.ses_feedback(sns_event(ses_event("Bounce", "vera@example.org")), None) == {
        "suppressed": 1, "ignored": 0}
    # Identity notifications say notificationType; a display name around the address is read through.
    complaint = json.loads(ses_event("Complaint", '"Kim" <Kim@Example.org>'))
    complaint["notificationType"] = complaint.pop("eventType")
    assert app_module.ses_feedback(sns_event(json.dumps(complaint)), None)["suppressed"] == 1
    # A full mailbox is no reason to stop.
    assert app_module.ses_feedback(sns_event(ses_event("Bounce", "lee@example.org", bounce_type="Transient")),
                                   None) == {"suppressed": 0, "ignored": 1}
    assert app_module.ses_feedback(sns_event(ses_event("Bounce", "vera@example.org")), None)["suppressed"] == 1
    assert sorted(entry["reason"]["S"] for entry in suppressions()) == ["bounce", "complaint"]

    for tenant, staff in ((acme, sam), (other, kim)):
        assert surveyed_by_email(api, tenant, staff, ["vera@example.org", "kim@example.org"]) == summary(suppressed=2)
    assert surveyed_by_email(api, acme, sam, ["lee@example.org"]) == summary(email=1)
    assert not to("vera@example.org") and not to("kim@example.org")


@pytest.mark.parametrize("message", [
    "not json", "[]", "null", json.dumps({"eventType": "Bounce"}), json.dumps({"eventType": "Delivery"}),
    json.dumps({"eventType": "Bounce", "bounce": {"bounceType": "Permanent", "bouncedRecipients": "vera@example.org"}}),
    json.dumps({"eventType": "Complaint", "complaint": {"complainedRecipients": [{"emailAddress": 7}]}}),
    json.dumps({"eventType": "Complaint", "complaint": {"complainedRecipients": [{"emailAddress": "x@y.z"}] * 51}}),
    "[" * 100000,
])
def test_malformed_feedback_is_ignored_and_changes_nothing(aws, message: str):
    assert app_module.ses_feedback(sns_event(message), None) == {"suppressed": 0, "ignored": 1}
    assert suppressions() == []
