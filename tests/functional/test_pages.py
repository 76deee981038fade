"""The console, the widget and the demo page as the app serves them: headers, escaping, assets."""
from __future__ import annotations

import re

import pytest

from chalicelib.web.pages import ASSETS


def csp_directives(response) -> dict[str, str]:
    policy = response.headers["Content-Security-Policy"]
    return dict(part.strip().split(" ", 1) for part in policy.split(";"))


@pytest.mark.parametrize("path", ["/app", "/demo", "/demo?widget_key=wk.t_abc.Secret-_1"])
def test_pages_carry_a_strict_content_security_policy(api, path):
    response = api.call("GET", path)
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "text/html; charset=utf-8"
    directives = csp_directives(response)
    assert directives["default-src"] == "'none'"
    assert directives["script-src"] == "'self'" and directives["style-src"] == "'self'"
    assert directives["base-uri"] == "'none'"
    assert "unsafe" not in response.headers["Content-Security-Policy"]


# The console's Widget screen shows the demo page in a frame (its live preview): the console may frame
# only its own origin, and the demo page may be framed only by it. Nothing else frames or is framed.
@pytest.mark.parametrize("path, frames, framed_by", [
    ("/app", "'self'", "'none'"),
    ("/demo", "'none'", "'none'"),
    ("/demo?widget_key=wk.t_abc.Secret-_1", "'none'", "'self'"),
    ("/demo?widget_key=wk.t_abc.Secret-_1&preview=true", "'none'", "'self'"),
])
def test_only_the_console_frames_only_the_demo_page_of_its_own_origin(api, path, frames, framed_by):
    directives = csp_directives(api.call("GET", path))
    assert (directives["frame-src"], directives["frame-ancestors"]) == (frames, framed_by)


def test_the_websocket_api_and_the_upload_bucket_are_the_only_other_places_pages_may_connect_to(api, monkeypatch):
    from chalicelib.config import get_config

    monkeypatch.setenv("SWITCHBOARD_WS_URL", "wss://abc123.execute-api.eu-west-1.amazonaws.com/prod")
    monkeypatch.setenv("SWITCHBOARD_UPLOAD_BUCKET", "sb-uploads")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "eu-west-1")
    monkeypatch.delenv("AWS_REGION", raising=False)
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    monkeypatch.delenv("AWS_ENDPOINT_URL_S3", raising=False)
    get_config.cache_clear()
    try:
        directives = csp_directives(api.call("GET", "/app"))
    finally:
        get_config.cache_clear()
    # The uploads: attachments go from the browser straight to the upload bucket (presigned POSTs).
    assert directives["connect-src"] == ("'self' https://sb-uploads.s3.amazonaws.com "
                                         "https://sb-uploads.s3.eu-west-1.amazonaws.com "
                                         "wss://abc123.execute-api.eu-west-1.amazonaws.com")
    # Attachments fetched with the token show from object URLs.
    assert directives["img-src"] == "'self' data: blob:"


@pytest.mark.parametrize("path", ["/app", "/demo", "/demo?widget_key=wk.t_abc.Secret-_1"])
def test_every_script_and_stylesheet_a_page_names_is_served(api, path):
    page = api.call("GET", path).body.decode()
    references = re.findall(r'(?:src|href)="((?:assets/)?[a-z-]+\.(?:js|css))"', page)
    assert any(reference.endswith(".css") for reference in references)
    for reference in references:
        assert api.call("GET", f"/{reference}").status_code == 200, reference


def test_demo_page_carries_the_widget_tag_for_a_well_formed_key_only(api):
    page = api.call("GET", "/demo?widget_key=wk.t_abc.Secret-_1").body.decode()
    assert ('<script type="module" src="widget.js" data-widget-key="wk.t_abc.Secret-_1" data-preview="">'
            '</script>') in page
    preview = api.call("GET", "/demo?widget_key=wk.t_abc.Secret-_1&preview=1").body.decode()
    assert 'data-widget-key="wk.t_abc.Secret-_1" data-preview="1"' in preview
    for key in ['wk.t_abc."><script>alert(1)</script>', "nonsense", ""]:
        page = api.call("GET", f"/demo?widget_key={key}").body.decode()
        assert "data-widget-key" not in page and "<script>alert" not in page
        assert "Which tenant's widget?" in page


def test_widget_and_assets_are_served_to_any_site(api):
    widget = api.call("GET", "/widget.js")
    assert widget.status_code == 200
    assert widget.headers["Content-Type"] == "text/javascript; charset=utf-8"
    assert widget.headers["Access-Control-Allow-Origin"] == "*"  # module scripts load with CORS
    for name in ("console.js", "realtime.js", "dom.js", "widget.css", "console.css"):
        response = api.call("GET", f"/assets/{name}")
        assert response.status_code == 200 and response.body.decode() == (ASSETS / name).read_text()


@pytest.mark.parametrize("name", ["nothing.js", "console.html", "..%2Fpages.py", "CONSOLE.JS", ".env"])
def test_only_the_static_assets_are_served(api, name):
    response = api.call("GET", f"/assets/{name}")
    assert response.status_code == 404
    assert response.json_body["error"]["code"] == "not_found"


# HEAD: API Gateway routes it only where a route declares it; the body is dropped by HTTP itself
# (tests/reliability/test_fuzz.py checks that on the local server).
@pytest.mark.parametrize("path", ["/app", "/demo?widget_key=wk.t_abc.Secret-_1", "/demo", "/widget.js",
                                  "/assets/console.js", "/assets/nothing.js", "/health", "/openapi.json",
                                  "/survey.js", "/survey/not-a-token"])
def test_head_answers_with_the_status_and_headers_of_get(api, path):
    got, head = api.client.http.get(path), api.client.http.head(path)
    assert (head.status_code, head.headers) == (got.status_code, got.headers)


def test_every_public_get_has_a_head_route():
    from app import app
    from chalicelib.web.routing import PUBLIC, ROUTES

    public_gets = {spec.path for spec in ROUTES if spec.method == "GET" and spec.auth == PUBLIC}
    assert {"/app", "/demo", "/widget.js", "/assets/{name}", "/health", "/openapi.json"} <= public_gets
    assert {path for path in public_gets if "HEAD" in app.routes[path]} == public_gets


def test_the_catalogs_are_served_by_scope_and_locale(api):
    chinese = api.call("GET", "/i18n/console/zh-CN")
    assert chinese.status_code == 200 and chinese.headers["Content-Type"] == "application/json; charset=utf-8"
    assert chinese.headers["Access-Control-Allow-Origin"] == "*"  # the widget reads its own from tenants' pages
    body = chinese.json_body
    assert body["locale"] == "zh-CN" and body["messages"]["console-common.save"] == "保存"
    assert all(key.startswith("console") for key in body["messages"])
    assert api.call("GET", "/i18n/console/en").json_body["messages"]["console-common.save"] == "Save"
    for path in ["/i18n/console/fr", "/i18n/server/en", "/i18n/console/zh-cn", "/i18n/bot/zh-CN"]:
        assert api.call("GET", path).status_code == 404, path
