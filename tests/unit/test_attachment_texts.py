"""The words of the attachment modules, which the widget and the console share: attachments.js and
attachments-view.js name their keys without a namespace (words(ns) adds "widget.attachment_" or
"console-attachments."), so test_i18n_catalogs cannot see them; here every key they name must be in both
catalogs, and the two catalogs must say the same things."""
from __future__ import annotations

import re
from pathlib import Path

from chalicelib import i18n

ASSETS = Path(__file__).resolve().parents[2] / "chalicelib" / "web" / "assets"
MODULES = ["attachments.js", "attachments-view.js", "console-chat.js"]
# say("key"), this.fileWords("key"), named(say, "key", ...), {key: "key"}, return "kind_...", a ? "key" : "key".
KEY_USES = [r"""\b(?:say|fileWords)\(\s*"(\w+)\"""", r"""\bnamed\(\s*[\w.]+\s*,\s*"(\w+)\"""",
            r"""\bkey: "(\w+)\"""", r"""\breturn "(kind_\w+)\"""", r"""\? "(\w+)" : "(\w+)\""""]
# Keys only the console's Settings screen reads (console-settings.js names them in full).
SETTINGS_ONLY = {"field_max_mib", "max_mib_hint", "error_max_mib"}


def named_keys() -> set[str]:
    keys: set[str] = set()
    for name in MODULES:
        source = (ASSETS / name).read_text(encoding="utf-8")
        for pattern in KEY_USES:
            for found in re.findall(pattern, source):
                keys |= set(found) if isinstance(found, tuple) else {found}
    return keys


def test_every_key_the_attachment_modules_name_is_in_both_catalogs() -> None:
    keys = named_keys()
    assert len(keys) >= 20, f"the patterns no longer match how the modules name keys: {sorted(keys)}"
    for locale in i18n.LOCALES:
        widget, console = i18n.scope_messages("widget", locale), i18n.scope_messages("console", locale)
        assert not [key for key in keys if f"widget.attachment_{key}" not in widget], locale
        assert not [key for key in keys if f"console-attachments.{key}" not in console], locale


def test_the_widget_and_the_console_have_the_same_attachment_words() -> None:
    english = i18n.scope_messages("widget", "en")
    widget = {key.removeprefix("widget.attachment_") for key in english if key.startswith("widget.attachment_")}
    console = {key.removeprefix("console-attachments.") for key in i18n.scope_messages("console", "en")
               if key.startswith("console-attachments.")}
    assert widget == console - SETTINGS_ONLY
