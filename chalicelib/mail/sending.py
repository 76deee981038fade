"""Sending one email for a tenant (to a visitor, or to its admins: alerts/): the suppression list and the
daily caps first, then a plain-text message (with an HTML alternative when the caller gives one) with a
one-click unsubscribe (RFC 8058) through SES's configuration set."""
from __future__ import annotations

import html as markup
import re
from collections.abc import Callable
from email.message import EmailMessage
from email.policy import SMTP
from email.utils import formatdate, make_msgid
from typing import Literal

from ..runtime import runtime
from . import caps, suppression, texts
from .unsubscribe import unsubscribe_url

Outcome = Literal["email", "suppressed", "capped_tenant", "capped_address", "none"]
# RFC 5322's hard line limit: the List-Unsubscribe URL must stay one unbroken token.
POLICY = SMTP.clone(max_line_length=998)
# A bare ASCII addr-spec: anything else (a display name, a line break, non-ASCII) is not sent to.
_SENDABLE = re.compile(r"^[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]{1,64}@[A-Za-z0-9.-]{1,253}$")


def send_to_visitor(tenant_id: str, tenant_name: str, address: str, subject: str,
                    paragraphs: list[str], locale: str) -> Outcome:
    """Send fixed text (`subject`, `paragraphs`, written in `locale`) to `address` for the tenant, unless
    the address is suppressed for it or a daily cap is reached; which of these happened."""
    business = texts.business(tenant_name, locale)
    return send_for_tenant(tenant_id, address, subject, paragraphs, locale,
                           lambda link: texts.unsubscribe_footer(business, link, locale))


def send_for_tenant(tenant_id: str, address: str, subject: str, paragraphs: list[str], locale: str,
                    footer: Callable[[str], list[str]], html: str | None = None) -> Outcome:
    """As send_to_visitor, with the footer's paragraphs made from the unsubscribe link by `footer`, and
    `html` (the paragraphs as an HTML fragment, escaped by the caller) as an alternative part."""
    refused = _refused(tenant_id, address)
    if refused:
        return refused
    digest = suppression.address_hash(address)
    link = unsubscribe_url(tenant_id, digest, locale)
    footing = footer(link)
    message = _message(address, subject, [*paragraphs, *footing], link)
    if html is not None:
        # Quoted-printable: 7-bit, and lines wrapped however long the fragment's are.
        message.add_alternative(_html_document(html, footing, link, locale), subtype="html", cte="quoted-printable")
    _send(address, message)
    return "email"


def send_built(tenant_id: str, message: EmailMessage, *, answers_mail: bool) -> Outcome:
    """Send a message built whole by its caller (the email channel's replies, whose headers thread
    them) to its To address, under the same suppression list and daily caps as every email; an answer
    to mail the address sent (`answers_mail`) under the caps on replies instead (caps.py)."""
    address = str(message["To"])
    refused = _refused(tenant_id, address, reply=answers_mail)
    if refused:
        return refused
    _send(address, message)
    return "email"


def sendable(address: str) -> bool:
    return bool(_SENDABLE.match(address))


def _refused(tenant_id: str, address: str, *, reply: bool = False) -> Outcome | None:
    if not _SENDABLE.match(address):
        return "none"
    digest = suppression.address_hash(address)
    if suppression.is_suppressed(tenant_id, digest):
        return "suppressed"
    return caps.take_slot(tenant_id, digest, reply=reply)


def _send(address: str, message: EmailMessage) -> None:
    rt = runtime()
    rt.client("ses").send_raw_email(Source=rt.config.mail_from, Destinations=[address],
                                    RawMessage={"Data": message.as_bytes()},
                                    ConfigurationSetName=rt.config.mail_configuration_set)


def _message(to: str, subject: str, paragraphs: list[str], unsubscribe: str) -> EmailMessage:
    rt = runtime()
    message = EmailMessage(policy=POLICY)
    message["From"] = rt.config.mail_from
    message["To"] = to
    message["Subject"] = subject
    message["Date"] = formatdate(rt.clock.now(), usegmt=True)
    message["Message-ID"] = make_msgid(domain=rt.config.mail_from.rpartition("@")[2].rstrip(">"))
    message["Auto-Submitted"] = "auto-generated"  # RFC 3834: no auto-replies
    message["List-Unsubscribe"] = f"<{unsubscribe}>"
    message["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
    text = "\n\n".join(paragraphs) + "\n"
    # SES asks for 7-bit content: a tenant name with accents or CJK goes quoted-printable.
    message.set_content(text, cte="7bit" if text.isascii() else "quoted-printable")
    return message


def _html_document(body: str, footing: list[str], link: str, locale: str) -> str:
    """The HTML part: the caller's fragment, then the footer (the unsubscribe link as a link)."""
    foot = "".join(f'<p><a href="{markup.escape(line)}">{markup.escape(line)}</a></p>' if line == link
                   else f"<p>{markup.escape(line)}</p>" for line in footing)
    return (f'<!DOCTYPE html><html lang="{markup.escape(locale)}"><head><meta charset="utf-8"></head>'
            f'<body>{body}<hr><footer style="color:#555;font-size:small">{foot}</footer></body></html>\n')
