"""Small HTML pages for people who come from an email (the unsubscribe pages; the survey page uses
html_page too): no script unless a page brings its own, every value escaped, a strict CSP, in the
language of the email the link came in (else the browser's, from Accept-Language)."""
from __future__ import annotations

import html

from chalice import Response

from ..errors import ApiError
from ..i18n import Locale, accept_language, negotiate, text
from . import texts
from .unsubscribe import read_link, unsubscribe

# The confirmation form posts to its own URL; nothing else is loaded.
UNSUBSCRIBE_CSP = ("default-src 'none'; style-src 'self'; form-action 'self'; base-uri 'none'; "
                   "frame-ancestors 'none'")


def page_locale(recorded: str | None, accept_language_header: str | None) -> Locale:
    """The language a page speaks: the one recorded with its link, else the browser's, else English."""
    return negotiate(recorded, *accept_language(accept_language_header))


def html_page(title: str, body: str, status: int, csp: str, lang: Locale) -> Response:
    """`body` is markup the caller built with html.escape around every value."""
    document = f"""<!doctype html>
<html lang="{lang}"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>{html.escape(title)}</title></head>
<body><main><h1>{html.escape(title)}</h1>{body}</main></body></html>"""
    return Response(body=document, status_code=status,
                    headers={"Content-Type": "text/html; charset=utf-8", "Content-Security-Policy": csp,
                             "Content-Language": lang, "Vary": "Accept-Language"})


def _not_valid(err: ApiError, accept_language_header: str | None) -> Response:
    lang = page_locale(None, accept_language_header)
    return html_page(text(lang, "pages.link_not_valid_title"),
                     f"<p>{html.escape(text(lang, 'pages.link_not_valid'))}</p>", err.status, UNSUBSCRIBE_CSP, lang)


def confirm_page(token: str, accept_language_header: str | None) -> Response:
    """GET changes nothing (link scanners open every link): it asks, and its form sends the POST."""
    try:
        link = read_link(token)
    except ApiError as err:
        return _not_valid(err, accept_language_header)
    lang = page_locale(link.locale, accept_language_header)
    question = text(lang, "pages.unsubscribe_question", business=texts.business(link.tenant_name, lang))
    form = (f"<p>{html.escape(question)}</p><form method=\"post\">"
            '<input type="hidden" name="List-Unsubscribe" value="One-Click">'
            f"<button type=\"submit\">{html.escape(text(lang, 'pages.unsubscribe_button'))}</button></form>")
    return html_page(text(lang, "pages.unsubscribe_title"), form, 200, UNSUBSCRIBE_CSP, lang)


def unsubscribed_page(token: str, accept_language_header: str | None) -> Response:
    try:
        link = unsubscribe(token)
    except ApiError as err:
        return _not_valid(err, accept_language_header)
    lang = page_locale(link.locale, accept_language_header)
    done = text(lang, "pages.unsubscribed", business=texts.business(link.tenant_name, lang))
    return html_page(text(lang, "pages.unsubscribed_title"), f"<p>{html.escape(done)}</p>", 200, UNSUBSCRIBE_CSP,
                     lang)
