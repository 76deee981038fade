"""Small HTML pages for people who come from an email (the unsubscribe pages; the survey page uses
html_page too): no script unless a page brings its own, every value escaped, a strict CSP."""
from __future__ import annotations

import html

from chalice import Response

from ..errors import ApiError
from . import texts
from .unsubscribe import read_link, unsubscribe

# The confirmation form posts to its own URL; nothing else is loaded.
UNSUBSCRIBE_CSP = ("default-src 'none'; style-src 'self'; form-action 'self'; base-uri 'none'; "
                   "frame-ancestors 'none'")


def html_page(title: str, body: str, status: int, csp: str) -> Response:
    """`body` is markup the caller built with html.escape around every value."""
    document = f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>{html.escape(title)}</title></head>
<body><main><h1>{html.escape(title)}</h1>{body}</main></body></html>"""
    return Response(body=document, status_code=status,
                    headers={"Content-Type": "text/html; charset=utf-8", "Content-Security-Policy": csp})


def _not_valid(err: ApiError) -> Response:
    return html_page(texts.LINK_NOT_VALID_TITLE, f"<p>{html.escape(texts.LINK_NOT_VALID)}</p>", err.status,
                     UNSUBSCRIBE_CSP)


def confirm_page(token: str) -> Response:
    """GET changes nothing (link scanners open every link): it asks, and its form sends the POST."""
    try:
        link = read_link(token)
    except ApiError as err:
        return _not_valid(err)
    question = texts.unsubscribe_question(texts.business(link.tenant_name))
    form = (f"<p>{html.escape(question)}</p><form method=\"post\">"
            '<input type="hidden" name="List-Unsubscribe" value="One-Click">'
            f"<button type=\"submit\">{html.escape(texts.UNSUBSCRIBE_BUTTON)}</button></form>")
    return html_page(texts.UNSUBSCRIBE_TITLE, form, 200, UNSUBSCRIBE_CSP)


def unsubscribed_page(token: str) -> Response:
    try:
        link = unsubscribe(token)
    except ApiError as err:
        return _not_valid(err)
    done = texts.unsubscribed(texts.business(link.tenant_name))
    return html_page(texts.UNSUBSCRIBED_TITLE, f"<p>{html.escape(done)}</p>", 200, UNSUBSCRIBE_CSP)
