"""Text as staff and searches give it, folded so that equal text compares equal in any script.

NFKC makes full-width Latin and digits (ＶＩＰ, １２) and compatibility forms plain; casefold lowers
Latin (and leaves CJK as it is); runs of white space become one space. Chinese is never split into
words: a label is one string, and search matches substrings, so 退货 finds 我要退货 without spaces.
"""
from __future__ import annotations

import re
import unicodedata

MAX_LABELS, MAX_LABEL_LENGTH = 20, 32
# Letters and digits of any script, spaces, - and _ (no punctuation that reads as syntax: , # /).
_LABEL = re.compile(r"[\w\- ]+")


def fold(text: str) -> str:
    return " ".join(unicodedata.normalize("NFKC", text).casefold().split())


def label(value: str) -> str:
    """A label as stored, or ValueError saying what is wrong with it."""
    folded = fold(value)
    if not folded:
        raise ValueError("a label needs at least one letter or digit")
    if len(folded) > MAX_LABEL_LENGTH:
        raise ValueError(f"a label has at most {MAX_LABEL_LENGTH} characters")
    if not _LABEL.fullmatch(folded):
        raise ValueError("a label holds letters, digits, spaces, - and _ only")
    return folded


def terms(query: str) -> list[str]:
    """A search's words: each must be found (a Chinese phrase without spaces is one term)."""
    return fold(query).split(" ") if fold(query) else []
