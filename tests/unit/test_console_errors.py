"""Every error code the server can answer with has its text in the console's language: a line in
console-errors.json and its entry in api.js (ERRORS, or FRAMES for a code shown around the server's words)."""
from __future__ import annotations

import json
import re
from pathlib import Path

from chalicelib import i18n

ROOT = Path(__file__).resolve().parents[2]
# code="..." at a raise site, `code = "..."` or `status, code = 4xx, "..."` on an error class, and the
# codes the middleware gives Chalice's own refusals.
RAISED = re.compile(r"""\bcode\s*=\s*["']([a-z_]+)["']|status,\s*code\s*=\s*\d+,\s*["']([a-z_]+)["']""")
MIDDLEWARE = re.compile(r""":\s*["']([a-z_]+)["'],?\s*$""", re.M)


def raised_codes() -> set[str]:
    codes = set()
    for path in (ROOT / "chalicelib").rglob("*.py"):
        source = path.read_text(encoding="utf-8")
        codes |= {first or second for first, second in RAISED.findall(source)}
        if path.name == "middleware.py":
            codes |= set(MIDDLEWARE.findall(source.split("_CHALICE_CODES", 1)[1].split("}", 1)[0]))
    return codes


def test_every_code_the_server_raises_has_a_console_text() -> None:
    codes = raised_codes()
    assert {"invalid_input", "totp_invalid", "email_taken", "method_not_allowed"} <= codes  # the search works
    catalog = json.loads((i18n.CATALOGS / "console-errors.json").read_text(encoding="utf-8"))["en"]
    api = (ROOT / "chalicelib" / "web" / "assets" / "api.js").read_text(encoding="utf-8")
    handled = set(re.findall(r"^\s*([a-z_]+): \(\) => t\(\"console-errors\.\1\"\)", api, re.M))
    handled |= set(re.findall(r"([a-z_]+): \"console-errors\.\1\"", api))
    assert not codes - catalog.keys(), f"codes without a text in console-errors.json: {sorted(codes - catalog.keys())}"
    assert not codes - handled, f"codes api.js does not translate: {sorted(codes - handled)}"
