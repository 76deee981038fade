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


def handoff_phrase_in(text: str, phrases: Iterable[str]) -> str | None:
    """The first of the phrases the message holds (as the tenant wrote it), or None."""
    folded = _fold(text)
    compact, words = "".join(folded.split()), _WORD.findall(folded)
    for phrase in phrases:
        wanted = _fold(phrase)
        if has_cjk(wanted):
            if "".join(wanted.split()) in compact:
                return phrase
        elif _holds_words(words, _WORD.findall(wanted)):
            return phrase
    return None


def _fold(text: str) -> str:
    return unicodedata.normalize("NFKC", text).casefold()


def _holds_words(words: list[str], run: list[str]) -> bool:
    width = len(run)
    return width > 0 and any(words[i:i + width] == run for i in range(len(words) - width + 1))
