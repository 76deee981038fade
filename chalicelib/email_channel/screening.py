"""Mail that is never answered nor stored as a message: auto-replies, bounces, mailing lists and our
own mail coming back (a loop). Each is recognised from its headers (RFC 3834, RFC 3464, common
practice) and dropped with the reason, so two robots can never talk to each other through us."""
from __future__ import annotations

from typing import Literal

from ..runtime import runtime
from .parsing import ParsedMail

DropReason = Literal["auto_reply", "bounce", "mailing_list", "loop", "too_large", "malformed", "unknown_tenant",
                     "rate_limited", "visitor_erased", "duplicate", "empty", "spam"]
OUR_HEADER = "X-Switchboard-Conversation"  # on every email we send: seen coming in, it is our own
_NULL_SENDERS = ("mailer-daemon", "postmaster")
_BULK = frozenset({"bulk", "junk", "list", "auto_reply"})


def drop_reason(mail: ParsedMail) -> DropReason | None:
    headers = mail.headers
    local, _, domain = mail.sender.rpartition("@")
    if (not mail.sender or local in _NULL_SENDERS or mail.report_type is not None
            or (mail.return_path is None and "return-path" in headers)):
        return "bounce"
    # SES's receipt rule scans every email and says so in these headers; a failed scan is never read.
    if "FAIL" in (headers.get("x-ses-spam-verdict", "").upper(), headers.get("x-ses-virus-verdict", "").upper()):
        return "spam"
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
