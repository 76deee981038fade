"""Whether a visitor's message asks for a person, by the tenant's handoff phrases (settings).

Both sides are NFKC-folded and case-folded. A phrase holding a CJK character is looked for as a
substring with all spaces removed from phrase and message: Chinese carries no spaces, so "转人工"
and "转 人工" both hold "人工". Any other phrase must appear as whole words, in order: "talk to a
human" in "can I talk to a human?", but "agent" not in "agents" and "human" not in "humane".
"""
from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable

from .ranking import has_cjk

_WORD = re.compile(r"\w+")


def asks_for_a_person(text: str, phrases: Iterable[str]) -> bool:
    folded = _fold(text)
    compact, words = "".join(folded.split()), _WORD.findall(folded)
    for phrase in map(_fold, phrases):
        if has_cjk(phrase):
            if "".join(phrase.split()) in compact:
                return True
        elif _holds_words(words, _WORD.findall(phrase)):
            return True
    return False


def _fold(text: str) -> str:
    return unicodedata.normalize("NFKC", text).casefold()


def _holds_words(words: list[str], run: list[str]) -> bool:
    width = len(run)
    return width > 0 and any(words[i:i + width] == run for i in range(len(words) - width + 1))
