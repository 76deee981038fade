"""The browser surface served by the app itself: the agent console (`/app`), the widget loader
(`/widget.js`), a demo shop page with the widget on it (`/demo`) and their static assets.

Plain JavaScript modules and CSS read from chalicelib/web/assets/ (no build step, no CDN). Pages
carry a strict Content-Security-Policy: scripts, styles and fetches from this origin only, plus
the WebSocket API; nothing inline, so injected markup could not run even if it reached the DOM.
"""
from __future__ import annotations

import html
import json
import os
import re
from collections.abc import Callable
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from chalice import Blueprint, Chalice, Response

from .. import i18n
from ..config import get_config
from ..errors import NotFound
from ..lazy import lazy_modules
from .routing import PUBLIC, ROUTES, PublicCall, endpoint

if TYPE_CHECKING:
    from . import schemas
else:  # on a route's first call: the handlers' annotations name the models (see routing.py)
    schemas, = lazy_modules(__package__, "schemas")

bp = Blueprint(__name__)
TAG = "web"
ASSETS = Path(__file__).with_name("assets")
_TYPES = {".js": "text/javascript; charset=utf-8", ".css": "text/css; charset=utf-8"}
# Assets are loaded by tenants' pages too (the widget), so other origins may fetch them.
_ASSET_HEADERS = {"Access-Control-Allow-Origin": "*", "Cross-Origin-Resource-Policy": "cross-origin",
                  "Cache-Control": "public, max-age=300"}
_ASSET_NAME = re.compile(r"^[a-z][a-z0-9-]*\.(js|css)$")
_WIDGET_KEY = re.compile(r"^wk\.[A-Za-z0-9_]{1,64}\.[A-Za-z0-9_-]{1,64}$")


def content_security_policy(*, frames: str = "'none'", framed_by: str = "'none'") -> str:
    """frames: what the page may show in a frame (the console: the widget's live preview, /demo);
    framed_by: who may show the page in a frame (the demo page: the console, same origin only)."""
    connect = ["'self'", *upload_origins()]
    ws_url = get_config().ws_public_url
    if ws_url:
        parts = urlsplit(ws_url)
        connect.append(f"{parts.scheme}://{parts.netloc}")
    # blob: the attachments the console fetched with its token, shown from object URLs.
    return ("default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; "
            f"connect-src {' '.join(connect)}; frame-src {frames}; base-uri 'none'; form-action 'none'; "
            f"frame-ancestors {framed_by}")


def upload_origins() -> list[str]:
    """Where a browser posts attachment bytes (presigned S3 POSTs to the upload bucket): the embedded
    S3 locally (boto3's AWS_ENDPOINT_URL), else the bucket's global and regional hosts."""
    config = get_config()
    local = os.environ.get("AWS_ENDPOINT_URL_S3") or os.environ.get("AWS_ENDPOINT_URL")
    if local:
        parts = urlsplit(local)
        return [f"{parts.scheme}://{parts.netloc}"]
    bucket = config.upload_bucket
    return [f"https://{bucket}.s3.amazonaws.com", f"https://{bucket}.s3.{config.region}.amazonaws.com"]


@cache
def _asset(name: str) -> str:
    return (ASSETS / name).read_text(encoding="utf-8")


def _page(body: str, title: str, stylesheet: str, lang: i18n.Locale = "en", csp: str | None = None,
          **slots: str) -> Response:
    """shell.html around one page's body (a file of assets/); every value filled in is escaped."""
    document = _asset("shell.html").replace("{{title}}", html.escape(title)).replace(
        "{{stylesheet}}", html.escape(stylesheet)).replace("{{lang}}", lang)
    content = _asset(body)
    for slot, value in slots.items():
        content = content.replace("{{" + slot + "}}", html.escape(value))
    document = document.replace("{{body}}", content)
    return Response(body=document, headers={"Content-Type": "text/html; charset=utf-8",
                                            "Content-Security-Policy": csp or content_security_policy()})


@endpoint(bp, "GET", "/app", summary="The agent console (HTML)", tag=TAG, auth=PUBLIC)
def console(call: PublicCall[None]) -> Response:
    # The browser's language: the console's first choice, before it knows the agent's own.
    lang = i18n.negotiate(*i18n.accept_language(call.headers.get("accept-language")))
    return _page("console.html", i18n.text(lang, "pages.console_title"), "console.css", lang,
                 csp=content_security_policy(frames="'self'"))


@endpoint(bp, "GET", "/demo", summary="A demo shop page with the chat widget on it (HTML)",
          tag=TAG, auth=PUBLIC)
def demo(call: PublicCall[None, schemas.DemoQuery]) -> Response:
    if not _WIDGET_KEY.match(call.query.widget_key):
        return _page("demo-missing.html", "Demo Shop", "demo.css")
    src = f"{get_config().public_url}/widget.js" if get_config().public_url else "/widget.js"
    snippet = f'<script type="module" src="{src}" data-widget-key="{call.query.widget_key}"></script>'
    # The console's Widget screen shows this page in a frame as its live preview (preview=1).
    return _page("demo.html", "Demo Shop", "demo.css", csp=content_security_policy(framed_by="'self'"),
                 widget_key=call.query.widget_key, snippet=snippet, preview="1" if call.query.preview else "")


@endpoint(bp, "GET", "/widget.js", summary="The embeddable chat widget (a JavaScript module)", tag=TAG, auth=PUBLIC)
def widget(call: PublicCall[None]) -> Response:
    return _static("widget.js")


@endpoint(bp, "GET", "/assets/{name}", summary="Static scripts and styles of the console and the widget",
          tag=TAG, auth=PUBLIC, errors=(404,))
def asset(call: PublicCall[None], name: str) -> Response:
    return _static(name)


@endpoint(bp, "GET", "/i18n/{scope}/{locale}", summary="The messages of the console or the widget in one language "
          "(scope: console or widget; locale: en or zh-CN)", tag=TAG, auth=PUBLIC, errors=(404,))
def catalog(call: PublicCall[None], scope: str, locale: str) -> Response:
    if scope not in i18n.SCOPES or locale not in i18n.LOCALES:
        raise NotFound("No such catalog.")
    body = json.dumps({"locale": locale, "messages": i18n.scope_messages(scope, locale)},
                      ensure_ascii=False, sort_keys=True)
    return Response(body=body, headers={"Content-Type": "application/json; charset=utf-8", **_ASSET_HEADERS})


def _static(name: str) -> Response:
    if not _ASSET_NAME.match(name) or not (ASSETS / name).is_file():
        raise NotFound("No such asset.")
    return Response(body=_asset(name), headers={"Content-Type": _TYPES[Path(name).suffix], **_ASSET_HEADERS})


def answer_head_like_get(app: Chalice) -> None:
    """Every public GET (the pages, their assets, /health, /openapi.json) answers HEAD as it answers
    GET. API Gateway routes HEAD only where a route declares it, so each gets a route of its own; it
    answers GET's status and headers with GET's body, which HTTP never sends for HEAD, so
    Content-Length stays GET's (the local server drops the body as API Gateway does)."""
    for spec in [spec for spec in ROUTES if spec.method == "GET" and spec.auth == PUBLIC]:
        get_view = app.routes[spec.path]["GET"].view_function

        def head(call: PublicCall[None], _get: Callable[..., Response] = get_view, **path_params: str) -> Response:
            return _get(**path_params)

        head.__name__ = f"head_{get_view.__name__}"
        endpoint(app, "HEAD", spec.path, summary=f"{spec.summary}: the headers of GET, no body", tag=spec.tag,
                 auth=PUBLIC, status=spec.status, errors=spec.declared_errors, cors=spec.cors,
                 html_errors=spec.html_errors, models_of=spec.declared_by)(head)
