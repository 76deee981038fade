"""Emails as visitors write them, for the email channel's tests (unit, functional, e2e, browser)."""
from __future__ import annotations

from email.message import EmailMessage
from email.policy import SMTP
from email.utils import make_msgid


def email(to: str, text: str = "Where is my parcel?", *, sender: str = "vera@example.org",
          name: str = "Vera", subject: str = "My parcel", html: str | None = None, **headers: str) -> bytes:
    mail = EmailMessage(policy=SMTP)
    mail["From"] = f"{name} <{sender}>" if name else sender
    mail["To"] = to
    mail["Subject"] = subject
    mail["Message-ID"] = headers.pop("message_id", None) or make_msgid(domain="example.org")
    for header, value in headers.items():
        mail[header.replace("_", "-")] = value
    if text:
        mail.set_content(text)
    if html is not None:
        if text:
            mail.add_alternative(html, subtype="html")
        else:
            mail.set_content(html, subtype="html")
    return mail.as_bytes()
