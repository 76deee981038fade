"""Every text a visitor reads in an email or on the pages an email links to, in the visitor's language
(the catalogs chalicelib/i18n/catalogs/email.json and pages.json).

Fixed text only. Nothing here is ever filled with what a visitor typed (their name, their messages):
an email goes to whatever address was typed into a widget, from our domain, so visitor text in it
would make Switchboard a tool for phishing anyone. The tenant's name appears only as business()
renders it.
"""
from __future__ import annotations

import unicodedata

from ..i18n import text

NAME_MAX = 40
NAME_DIGITS_MAX = 4
_NAME_PUNCTUATION = "&'-"


def display_name(tenant_name: str) -> str | None:
    """The tenant's name as an email may show it, or None when nothing of it is fit to show.

    Anyone can sign up a tenant, named "Your bank: reset your password at evil.example" if they like,
    so the name must not be able to carry a link, an address, a number to call or markup. It keeps
    letters, digits, spaces and & ' - (anything else becomes a space: no dot, slash, colon or @, hence no
    URL, domain or email address; no < > or quotes), at most 4 digits (more are dropped: no phone or
    account number), at most 40 characters cut at a word, and it must hold a letter."""
    kept = "".join(ch if unicodedata.category(ch)[0] == "L" or unicodedata.category(ch) == "Nd"
                   or ch in _NAME_PUNCTUATION else " " for ch in unicodedata.normalize("NFKC", tenant_name))
    if sum(ch.isdigit() for ch in kept) > NAME_DIGITS_MAX:
        kept = "".join(ch for ch in kept if not ch.isdigit())
    words = [word for word in kept.split() if word == "&" or any(ch.isalnum() for ch in word)]  # no bare "---"
    name = words[0][:NAME_MAX] if words else ""
    for word in words[1:]:
        if len(name) + len(word) + 1 > NAME_MAX:
            break
        name = f"{name} {word}"
    return name if any(unicodedata.category(ch)[0] == "L" for ch in name) else None


def business(tenant_name: str, locale: str | None) -> str:
    """The tenant as a sentence names it: its display name quoted, or a description when none is fit."""
    shown = display_name(tenant_name)
    return text(locale, "email.business", name=shown) if shown else text(locale, "email.unknown_business")


def survey_subject(locale: str | None) -> str:
    return text(locale, "email.survey_subject")


def survey_email(business_name: str, survey_url: str, locale: str | None) -> list[str]:
    return [text(locale, "email.survey_greeting"), text(locale, "email.survey_body", business=business_name),
            survey_url]


def unsubscribe_footer(business_name: str, unsubscribe_url: str, locale: str | None) -> list[str]:
    return [text(locale, "email.unsubscribe_footer", business=business_name), unsubscribe_url]
