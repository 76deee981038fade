"""Rank a tenant's FAQ entries against a visitor's message: Okapi BM25 plus a confidence.

Tokens: text is NFKC-folded, accents are stripped (NFKD, combining marks dropped) outside CJK
scripts, everything is case-folded, and punctuation separates tokens. Runs of CJK characters
(which carry no spaces) are cut at common function characters (的, 是, 我, の, は, ...) and become
overlapping character bigrams, so "退货政策" holds "退货" (a lone character stays itself);
other words lose a small English stop-word list (including chat filler such as "hi" and
"thanks") and a few inflections ("returns", "shipping", "arrived" -> "return", "ship", "arriv").

Documents: an entry is its question plus its keywords, keywords counted twice (an admin wrote
them precisely to be matched). A keyword in a CJK script is also a term whole ("支付宝"), found in
a visitor's message as a substring wherever it stands, spaces or none: so a single-character
keyword works, and an admin can teach the bot any word the bigrams miss.

Queries: a visitor writes Chinese without spaces, so a run's bigrams include some that straddle
two words ("运费多少" -> 运费, 费多, 多少). A bigram no entry holds whose neighbours on both sides are
held is such a straddler and is dropped, and so is a lone character (left between function
characters, as 办 in "我想退货怎么办") that no entry holds. Every other unknown term counts, as in
English ("付款失败", payment failed, is not "付款方式", payment methods).

Score (Okapi BM25, k1 = 1.2, b = 0.75), over the distinct terms t of the query q:

    idf(t)      = ln(1 + (N - n(t) + 0.5) / (n(t) + 0.5)),   n(t) = max(1, entries holding t)
    score(q, d) = sum over t in q of  idf(t) * tf(t, d) * (k1 + 1) / (tf(t, d) + k1 * (1 - b + b * |d| / avgdl))

Confidence, comparable across tenants and query lengths: the share of the query's IDF mass the
entry holds,

    confidence(q, d) = sum of idf(t) for t in q and in d  /  sum of idf(t) for t in q

so 1.0 means every informative word of the question appears in the entry, whatever the query's
length or the FAQ's size. A word no entry holds is weighed as if one entry held it (n(t) >= 1):
a small FAQ gives no evidence that an unknown word is rarer than its rarest known one, and
without that floor an unknown word would outweigh a known one almost five to one in a one-entry
FAQ but only 1.2 to one in a 200-entry FAQ.

DEFAULT_THRESHOLD = 0.6 sits between the two common partial matches: one of two equally
informative words (0.5: "payment failed" against "What payment methods do you accept?") is not
enough, two of three (0.67) is. Whole paraphrases score 1.0. tests/unit/test_faq_ranking.py
holds the paraphrases that must pass and the strangers that must not.
"""
from __future__ import annotations

import math
import re
import unicodedata
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Protocol

K1 = 1.2
B = 0.75
KEYWORD_WEIGHT = 2
DEFAULT_THRESHOLD = 0.6

_CJK = ("\u3040-\u30ff"          # Hiragana, Katakana
        "\u3400-\u4dbf"          # CJK Extension A
        "\u4e00-\u9fff"          # CJK Unified Ideographs
        "\uac00-\ud7af"          # Hangul syllables
        "\uf900-\ufaff"          # CJK Compatibility Ideographs
        "\U00020000-\U0002ffff")  # CJK Extensions B and later
_CJK_CHAR = re.compile(f"[{_CJK}]")
# Chinese function characters and Japanese particles: a CJK run is cut at them before it is
# paired up, so "我想退货" ("I want to return goods") yields only "退货".
_CJK_STOP = re.compile("[的了是我你他她它们吗呢吧啊呀在有和与及或就都也还很要想会能可以怎么什哪谁这那个请您"
                       "のはがをにでともかねよ]+")
# A run of CJK characters, or a run of letters and digits from any other script.
_TOKEN = re.compile(f"([{_CJK}]+)|((?:(?![{_CJK}])[^\\W_])+)")

STOP_WORDS = frozenset("""
a about above after again against all am an and any are as at be because been before being below
between both but by can could did do does doing down during each few for from further had has have
having he her here hers herself him himself his how i if in into is it its itself just me more most
my myself no nor not now of off on once only or other our ours ourselves out over own same she should
so some such than that the their theirs them themselves then there these they this those through to
too under until up very was we were what when where which while who whom why will with would you
your yours yourself yourselves s t d ll m re ve don doesn didn isn aren wasn weren hasn haven hadn
won wouldn shouldn couldn
hi hello hey hiya thanks thank thx please pls ok okay yes yeah want need know tell get got help
""".split())


class FaqEntryLike(Protocol):
    """What ranking reads of an entry: FaqModel, or anything shaped like it."""
    @property
    def faq_id(self) -> str: ...
    @property
    def question(self) -> str: ...
    @property
    def keywords(self) -> Sequence[str]: ...


@dataclass(frozen=True)
class Match:
    faq_id: str
    score: float
    confidence: float


def tokenize(text: str) -> list[str]:
    """Index terms of a text, in order, with repeats."""
    terms: list[str] = []
    for cjk_run, word in _TOKEN.findall(_fold(text)):
        if cjk_run:
            terms.extend(bigram for part in _CJK_STOP.split(cjk_run) if part for bigram in _bigrams(part))
        elif word not in STOP_WORDS:
            terms.append(_stem(word))
    return terms


def has_cjk(text: str) -> bool:
    return _CJK_CHAR.search(text) is not None


def rank(query: str, entries: Sequence[FaqEntryLike]) -> list[Match]:
    """Entries sharing a term with the query, best first (ties by faq_id, so stable)."""
    if not entries:
        return []
    documents = {entry.faq_id: _document(entry) for entry in entries}
    query_terms = _query_terms(query, documents.values(),
                               {_compact(keyword) for entry in entries for keyword in entry.keywords})
    if not query_terms:
        return []
    idf = _idf(query_terms, list(documents.values()))
    average_length = sum(sum(doc.values()) for doc in documents.values()) / len(documents) or 1.0
    query_mass = sum(idf.values())
    matches = [Match(faq_id, _bm25(idf, doc, average_length), _held_mass(idf, doc) / query_mass)
               for faq_id, doc in documents.items() if not query_terms.isdisjoint(doc)]
    return sorted(matches, key=lambda match: (-match.score, match.faq_id))


def best_match(query: str, entries: Sequence[FaqEntryLike],
               threshold: float = DEFAULT_THRESHOLD) -> Match | None:
    """The top-ranked entry if its confidence reaches the threshold, else None."""
    return first_confident(rank(query, entries), threshold)


def first_confident(ranked: Sequence[Match], threshold: float = DEFAULT_THRESHOLD) -> Match | None:
    """The bot answers with the best-scoring entry or not at all: never with a lower-ranked one."""
    return ranked[0] if ranked and ranked[0].confidence >= threshold else None


def _query_terms(query: str, documents: Iterable[Counter[str]], keywords: set[str]) -> set[str]:
    known: set[str] = set().union(*documents)
    folded = _fold(query)
    terms: set[str] = set()
    for cjk_run, word in _TOKEN.findall(folded):
        if cjk_run:
            terms.update(term for part in _CJK_STOP.split(cjk_run) if part for term in _held_bigrams(part, known))
        elif word not in STOP_WORDS:
            terms.add(_stem(word))
    compact = _compact_folded(folded)
    terms.update(keyword for keyword in keywords if has_cjk(keyword) and keyword in compact)
    return terms


def _held_bigrams(part: str, known: set[str]) -> list[str]:
    """A CJK part's bigrams less those straddling two known words, or the lone character if known."""
    if len(part) == 1:
        return [part] if part in known else []
    grams = _bigrams(part)
    return [gram for i, gram in enumerate(grams)
            if gram in known or not (0 < i < len(grams) - 1 and grams[i - 1] in known and grams[i + 1] in known)]


def _compact(text: str) -> str:
    """Folded, without spaces: how a CJK keyword is looked for in a message."""
    return _compact_folded(_fold(text))


def _compact_folded(folded: str) -> str:
    return re.sub(r"\s+", "", folded)


def _fold(text: str) -> str:
    # NFKC first folds full-width and compatibility forms; accents are then stripped from
    # non-CJK characters only (NFKD would split Hangul syllables and kana voicing marks).
    kept: list[str] = []
    for char in unicodedata.normalize("NFKC", text):
        if _CJK_CHAR.match(char):
            kept.append(char)
        else:
            kept.extend(c for c in unicodedata.normalize("NFKD", char) if not unicodedata.combining(c))
    return "".join(kept).casefold()


def _bigrams(run: str) -> list[str]:
    if len(run) == 1:
        return [run]
    return [run[i:i + 2] for i in range(len(run) - 1)]


def _stem(word: str) -> str:
    """A light English suffix fold (plurals, -ing, -ed, final e); being the same on both sides
    is what counts, not being a linguist's stem."""
    if len(word) <= 3 or not word.isalpha():
        return word
    for suffix, replacement in (("sses", "ss"), ("ies", "y"), ("ss", "ss"), ("us", "us"), ("s", "")):
        if word.endswith(suffix):
            word = word[: -len(suffix)] + replacement
            break
    for suffix in ("ing", "ed"):
        stem = word[: -len(suffix)]
        if word.endswith(suffix) and len(stem) >= 3 and any(v in stem for v in "aeiouy"):
            # "shipping" -> "shipp" -> "ship"; not for l, s, z ("spell", "pass", "buzz").
            word = stem[:-1] if stem[-1] == stem[-2] and stem[-1] not in "aeiouylsz" else stem
            break
    # "arrive", "arrived" and "arriving" all end as "arriv".
    return word[:-1] if word.endswith("e") and len(word) > 4 else word


def _document(entry: FaqEntryLike) -> Counter[str]:
    terms = Counter(tokenize(entry.question))
    for keyword in entry.keywords:
        for term in tokenize(keyword):
            terms[term] += KEYWORD_WEIGHT
        if has_cjk(whole := _compact(keyword)):
            terms[whole] += KEYWORD_WEIGHT
    return terms


def _idf(terms: set[str], documents: list[Counter[str]]) -> dict[str, float]:
    total = len(documents)
    holding = {term: max(1, sum(1 for doc in documents if term in doc)) for term in terms}
    return {term: math.log(1 + (total - n + 0.5) / (n + 0.5)) for term, n in holding.items()}


def _bm25(idf: dict[str, float], doc: Counter[str], average_length: float) -> float:
    length_norm = K1 * (1 - B + B * sum(doc.values()) / average_length)
    return sum(weight * doc[term] * (K1 + 1) / (doc[term] + length_norm)
               for term, weight in idf.items() if term in doc)


def _held_mass(idf: dict[str, float], doc: Counter[str]) -> float:
    return sum(weight for term, weight in idf.items() if term in doc)
