"""Mail that is never answered nor stored as a message: auto-replies, bounces, mailing lists, our
own mail coming back (a loop) and mail its sender's domain disowns (spoofed). Each is recognised from
its headers (RFC 3834, RFC 3464, RFC 8601, common practice) and dropped with the reason, so two robots
can never talk to each other through us and a forged From never speaks in a visitor's conversation."""
from __future__ import annotations

import re
from typing import Literal

from ..runtime import runtime
from .parsing import ParsedMail

DropReason = Literal["auto_reply", "bounce", "mailing_list", "loop", "too_large", "malformed", "unknown_tenant",
                     "rate_limited", "visitor_erased", "duplicate", "empty", "spam", "unauthenticated"]
OUR_HEADER = "X-Switchboard-Conversation"  # on every email we send: seen coming in, it is our own
_NULL_SENDERS = ("mailer-daemon", "postmaster")
_BULK = frozenset({"bulk", "junk", "list", "auto_reply"})
# SES's receipt puts its own Authentication-Results (RFC 8601) above every header the sender wrote, so
# the first such header is SES's; one a sender wrote below it is never read.
_RECEIVER = "amazonses.com"
_COMMENT = re.compile(r"\([^()]*\)")
_RESULT = re.compile(r"(?:^|[;\s])(spf|dkim|dmarc)=([a-z]+)")


def drop_reason(mail: ParsedMail) -> DropReason | None:
    headers = mail.headers
    local, _, domain = mail.sender.rpartition("@")
    if (not mail.sender or local in _NULL_SENDERS or mail.report_type is not None
            or (mail.return_path is None and "return-path" in headers)):
        return "bounce"
    # SES's receipt rule scans every email and says so in these headers; a failed scan is never read.
    if "FAIL" in (headers.get("x-ses-spam-verdict", "").upper(), headers.get("x-ses-virus-verdict", "").upper()):
        return "spam"
    if _disowned(headers.get("authentication-results", "")):
        return "unauthenticated"
    ours = {runtime().config.inbound_domain, runtime().config.mail_from.rpartition("@")[2].strip(">").lower()}
    if domain in ours or OUR_HEADER.lower() in headers:
        return "loop"
    if headers.get("auto-submitted", "no").lower() != "no" or "x-autoreply" in headers or "x-autorespond" in headers:
        return "auto_reply"
    if headers.get("precedence", "").lower() in _BULK:
        return "mailing_list" if headers["precedence"].lower() == "list" else "auto_reply"
    if {"all", "oof"} & {part.strip().lower() for part in headers.get("x-auto-response-suppress", "").split(",")}:
        # Exchange marks its out-of-office answers so; a person's mail says at most "AutoReply" or nothing.
        return "auto_reply"
    if "list-id" in headers or "list-unsubscribe" in headers:
        return "mailing_list"
    return None


def _disowned(results: str) -> bool:
    """SES's verdict says the From domain disowns the mail: DMARC failed, or SPF failed outright (not a
    softfail) with no DKIM signature passing. Forwarded mail breaks SPF but keeps DKIM, and a domain
    that publishes nothing (none, neutral) is not held against its senders."""
    authserv_id, _, rest = results.partition(";")
    if authserv_id.strip().lower() != _RECEIVER:
        return False
    verdicts: dict[str, set[str]] = {}
    for method, result in _RESULT.findall(_COMMENT.sub(" ", rest.lower())):
        verdicts.setdefault(method, set()).add(result)
    return "fail" in verdicts.get("dmarc", set()) or (
        "fail" in verdicts.get("spf", set()) and "pass" not in verdicts.get("dkim", set()))
