"""Message catalogs: every text a person reads, in each language Switchboard speaks.

One JSON file per namespace in catalogs/ (`console-team.json`, `widget.json`, `bot.json`, ...), each
`{"en": {...}, "zh-CN": {...}}` with the same keys in both. A key is read as `<namespace>.<key>`.
A value is a string with `{name}` placeholders, or a plural object `{"one": ..., "other": ...}`
chosen by the `count` parameter (CLDR categories: English has one/other, Chinese only other).

The browser reads its part through `GET /i18n/{scope}/{locale}`: the console every namespace whose
name starts with "console", the widget those starting with "widget". The others (bot, system,
email, ...) stay on the server. tests/unit/test_i18n_catalogs.py keeps the languages in step and
checks that every key the code names exists.
"""
from __future__ import annotations

import json
import re
from functools import cache
from pathlib import Path
from typing import Any, Literal

Locale = Literal["en", "zh-CN"]
LOCALES: tuple[Locale, ...] = ("en", "zh-CN")
DEFAULT_LOCALE: Locale = "en"
SCOPES = ("console", "widget")
CATALOGS = Path(__file__).with_name("catalogs")
_PLACEHOLDER = re.compile(r"\{(\w+)\}")


@cache
def _namespaces() -> dict[str, dict[str, dict[str, Any]]]:
    return {path.stem: json.loads(path.read_text(encoding="utf-8")) for path in sorted(CATALOGS.glob("*.json"))}


def _flatten(namespace: str, entries: dict[str, Any]) -> dict[str, Any]:
    return {f"{namespace}.{key}": value for key, value in entries.items()}


@cache
def messages(locale: Locale) -> dict[str, Any]:
    """Every key of `locale`, flat (`namespace.key` -> a string or a plural object)."""
    flat: dict[str, Any] = {}
    for namespace, languages in _namespaces().items():
        flat.update(_flatten(namespace, languages.get(locale, {})))
    return flat


@cache
def scope_messages(scope: str, locale: Locale) -> dict[str, Any]:
    """What the browser of `scope` ("console" or "widget") reads in `locale`."""
    return {key: value for key, value in messages(locale).items() if key.split(".", 1)[0].startswith(scope)}


def negotiate(*candidates: str | None) -> Locale:
    """The first candidate Switchboard speaks ("zh", "zh-Hans", "zh-SG", "zh-cn" -> zh-CN; "en-GB" -> en),
    else English. Candidates are locale tags in the order of preference (page, browser, tenant)."""
    for candidate in candidates:
        found = supported(candidate)
        if found:
            return found
    return DEFAULT_LOCALE


def supported(tag: str | None) -> Locale | None:
    if not tag:
        return None
    language = tag.strip().replace("_", "-").split("-")[0].lower()
    # Traditional-script Chinese (zh-TW, zh-HK, zh-Hant) is not Simplified: English is the safer fallback.
    if language == "zh" and not re.search(r"-(hant|tw|hk|mo)\b", tag.lower()):
        return "zh-CN"
    return "en" if language == "en" else None


def accept_language(header: str | None) -> list[str]:
    """The tags of an Accept-Language header, most preferred first."""
    ranked = []
    for position, part in enumerate((header or "").split(",")):
        tag, _, params = part.strip().partition(";")
        quality = 1.0
        match = re.search(r"q=([0-9.]+)", params)
        if match:
            try:
                quality = float(match.group(1))
            except ValueError:
                quality = 0.0
        if tag and quality > 0:
            ranked.append((-quality, position, tag))
    return [tag for _, _, tag in sorted(ranked)]


def text(locale: str | None, key: str, **params: Any) -> str:
    """The text of `key` in `locale` (English where the locale is not one we speak), placeholders filled."""
    chosen = supported(locale) or DEFAULT_LOCALE
    value = messages(chosen).get(key)
    if value is None:
        raise KeyError(f"no message {key!r}")
    if isinstance(value, dict):
        value = value["one"] if chosen == "en" and params.get("count") == 1 and "one" in value else value["other"]
    return _PLACEHOLDER.sub(lambda match: str(params.get(match.group(1), match.group(0))), value)
