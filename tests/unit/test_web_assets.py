"""What the console and the widget are made of: modules and styles only, and no way for text to
become markup or code."""
from __future__ import annotations

import re

from chalicelib.web.pages import ASSETS

SCRIPTS = sorted(ASSETS.glob("*.js"))
# Every API that parses a string as HTML or code; dom.js builds text nodes instead.
SINKS = re.compile(r"\b(innerHTML|outerHTML|insertAdjacentHTML|document\.write|eval|Function|"
                   r"createContextualFragment|DOMParser|srcdoc)\b|setTimeout\(\s*['\"`]")


def test_no_script_parses_strings_as_html_or_code():
    assert SCRIPTS
    found = {path.name: SINKS.findall(path.read_text()) for path in SCRIPTS}
    assert not {name: hits for name, hits in found.items() if hits}


def test_pages_have_no_inline_script_or_style_and_reference_only_served_assets():
    for page in ASSETS.glob("*.html"):
        text = page.read_text()
        assert not re.search(r"<script(?![^>]*\bsrc=)|<style|\sstyle=|\son[a-z]+=", text), page.name
        for reference in re.findall(r'(?:src|href)="assets/([^"{]+)"', text):  # {{slots}}: test_pages
            assert (ASSETS / reference).is_file(), (page.name, reference)


def test_modules_import_only_each_other():
    for path in SCRIPTS:
        for target in re.findall(r'^import .* from "([^"]+)";$', path.read_text(), flags=re.M):
            name = target.removeprefix("./assets/").removeprefix("./")
            assert (ASSETS / name).is_file(), (path.name, target)
