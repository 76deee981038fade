"""The message catalogs: both languages complete and alike, every key the code names present, and no
visible text written into the browser code instead of a catalog."""
from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from chalicelib import i18n

ROOT = Path(__file__).resolve().parents[2]
ASSETS = ROOT / "chalicelib" / "web" / "assets"
PLACEHOLDER = re.compile(r"\{(\w+)\}")
# A line carrying this comment holds no visible text (a header value, a file format, a product name).
EXEMPT = "// not UI text"
# Modules written before the catalogs; each leaves this list as it moves to t(). Empty when #23 is done.
NOT_YET_TRANSLATED: set[str] = set()


def catalog_files() -> list[Path]:
    return sorted(i18n.CATALOGS.glob("*.json"))


@pytest.mark.parametrize("path", catalog_files(), ids=lambda path: path.name)
def test_every_catalog_has_both_languages_with_the_same_keys_and_placeholders(path: Path) -> None:
    languages = json.loads(path.read_text(encoding="utf-8"))
    assert set(languages) == set(i18n.LOCALES), f"{path.name}: languages {sorted(languages)}"
    english, chinese = languages["en"], languages["zh-CN"]
    assert english.keys() == chinese.keys(), (
        f"{path.name}: only in en {sorted(english.keys() - chinese.keys())}, "
        f"only in zh-CN {sorted(chinese.keys() - english.keys())}")
    for key, value in english.items():
        assert _placeholders(value) == _placeholders(chinese[key]), f"{path.name}: {key} placeholders differ"
        for text in _texts(chinese[key]):
            assert text.strip(), f"{path.name}: {key} is empty in zh-CN"


def _texts(value: str | dict[str, str]) -> list[str]:
    if isinstance(value, dict):
        assert "other" in value and set(value) <= {"zero", "one", "two", "few", "many", "other"}, value
        return list(value.values())
    assert isinstance(value, str), value
    return [value]


def _placeholders(value: str | dict[str, str]) -> set[str]:
    return {name for text in _texts(value) for name in PLACEHOLDER.findall(text)}


def test_the_chinese_catalogs_are_chinese() -> None:
    """A zh-CN message identical to its English one is a forgotten translation, unless it has no words."""
    english, chinese = i18n.messages("en"), i18n.messages("zh-CN")
    untranslated = [key for key, value in chinese.items()
                    if value == english[key] and re.search(r"[A-Za-z]{3,}", json.dumps(value))]
    assert not untranslated


def js_modules() -> list[Path]:
    return sorted(path for path in ASSETS.glob("*.js") if path.name != "i18n.js")


# t("key") and t('key'): the key must exist in the scope the module reads (the widget's, else the console's).
T_CALL = re.compile(r"""\bt\(\s*(["'])([\w.-]+)\1""")


@pytest.mark.parametrize("path", js_modules(), ids=lambda path: path.name)
def test_every_key_a_module_names_is_in_its_catalog(path: Path) -> None:
    scope = "widget" if path.name.startswith("widget") else "console"
    known = i18n.scope_messages(scope, "en")
    missing = [key for _, key in T_CALL.findall(path.read_text(encoding="utf-8")) if key not in known]
    assert not missing, f"{path.name} names keys no {scope} catalog has: {missing}"


# What visible text written into code looks like: a sentence or a capitalised word ("Sign in",
# "Saved."), text given to el() as a child, or a visible attribute (placeholder, title, aria-label...).
_LITERAL = r"""(["'`])((?:(?!\1)[^\\\n]|\\.)*)\1"""
SENTENCE = re.compile(r"""(["'`])[A-Z][a-z]+(?:[ ,.:!?…]|\1)""")
EL_CHILD = re.compile(r"""\bel\(\s*["'][\w-]+["']\s*,\s*\{[^{}\n]*\}\s*,\s*""" + _LITERAL)
ATTRIBUTE = re.compile(r"""(?:placeholder|title|alt|label|["']aria-label["'])\s*:\s*""" + _LITERAL)
ASSIGNED = re.compile(r"""\.(?:textContent|title|placeholder)\s*=\s*""" + _LITERAL)


def hard_coded(source: str) -> list[str]:
    found = []
    for number, line in enumerate(source.splitlines(), 1):
        code = line.split("//", 1)[0] if not line.lstrip().startswith("//") else ""
        if EXEMPT in line or not code.strip():
            continue
        hits = [match.group(0) for match in SENTENCE.finditer(code)]
        for pattern in (EL_CHILD, ATTRIBUTE, ASSIGNED):
            hits += [match.group(0) for match in pattern.finditer(code) if re.search(r"[^\W\d_]", match.group(2))]
        found += [f"line {number}: {hit}" for hit in hits]
    return found


@pytest.mark.parametrize("path", js_modules(), ids=lambda path: path.name)
def test_no_visible_text_is_written_into_the_browser_code(path: Path) -> None:
    found = hard_coded(path.read_text(encoding="utf-8"))
    if path.name in NOT_YET_TRANSLATED:
        assert found, f"{path.name} has no hard-coded text left: take it off NOT_YET_TRANSLATED"
        return
    assert not found, f"{path.name} writes text a catalog should hold (or mark the line {EXEMPT!r}): {found}"


def test_the_hard_coded_text_check_catches_what_it_should() -> None:
    caught = ['el("h2", {}, "Team")', 'el("button", {type: "submit"}, "Save")', "placeholder: 'Write a message'",
              'status.textContent = "connected";', 'notify("Saved.")', "{title: `Welcome back`}"]
    passed = ['el("h2", {}, t("console-team.title"))', 'el("span", {class: "badge"}, count)',
              'headers["Content-Type"] = "application/json"; // not UI text', 'el("option", {value: "en"}, "English")'
              ' // not UI text', 'import {t} from "./i18n.js";', 'class: "conversation selected"']
    assert all(hard_coded(line) for line in caught), [line for line in caught if not hard_coded(line)]
    assert not [line for line in passed if hard_coded(line)]


def test_negotiation_prefers_the_page_then_the_browser_then_the_tenant() -> None:
    assert i18n.negotiate("zh-CN") == "zh-CN"
    assert i18n.negotiate(None, "zh-Hans-CN", "en") == "zh-CN"
    assert i18n.negotiate("fr", "en-GB", "zh-CN") == "en"
    assert i18n.negotiate("zh-TW", None) == "en"  # Traditional script: not our Simplified catalog
    assert i18n.negotiate(*i18n.accept_language("fr;q=1, zh-CN;q=0.9, en;q=0.8")) == "zh-CN"
    assert i18n.negotiate(*i18n.accept_language("en;q=0.1, zh;q=0.5")) == "zh-CN"
    assert i18n.negotiate() == "en"


def test_text_fills_placeholders_and_falls_back_to_english() -> None:
    assert i18n.text("zh-CN", "console-common.request_failed", status=503) == "请求失败（503）。"
    assert i18n.text("de", "console-common.request_failed", status=503) == "The request failed (503)."
    with pytest.raises(KeyError):
        i18n.text("en", "console-common.no_such_key")


def test_the_browser_reads_only_its_own_scope() -> None:
    console = i18n.scope_messages("console", "zh-CN")
    assert console["console-common.save"] == "保存"
    assert all(key.startswith("console") for key in console)
    assert all(key.startswith("widget") for key in i18n.scope_messages("widget", "en"))



# text(locale, "namespace.key", ...) in the server's code, and any "namespace.key" literal of a namespace only
# the server reads (a key handed to a helper that calls text()): the key must be in a catalog.
SERVER_TEXT_CALL = re.compile(r"""\btext\(\s*[\w.\[\]"']+\s*,\s*(["'])([\w-]+\.[\w.-]+)\1""")


def _server_key_literal() -> re.Pattern[str]:
    namespaces = [path.stem for path in catalog_files() if not path.stem.startswith(i18n.SCOPES)]
    return re.compile(r"""(["'])((?:""" + "|".join(map(re.escape, namespaces)) + r""")\.\w+)\1""")


def test_every_key_the_server_names_is_in_a_catalog() -> None:
    known = i18n.messages("en")
    named = set()
    for path in sorted((ROOT / "chalicelib").rglob("*.py")):
        source = path.read_text(encoding="utf-8")
        found = SERVER_TEXT_CALL.findall(source) + _server_key_literal().findall(source)
        named |= {(path.relative_to(ROOT).as_posix(), key) for _, key in found}
    assert named, "no key found: the patterns no longer match how the code names keys"
    missing = sorted(f"{path}: {key}" for path, key in named if key not in known)
    assert not missing, f"keys no catalog has: {missing}"
    assert SERVER_TEXT_CALL.search('text(lang, "console-x.survey_title")') and SERVER_TEXT_CALL.search(
        "i18n.text(locale, 'email.survey_subject', business=name)")
