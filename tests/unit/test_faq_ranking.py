"""FAQ ranking: the tokenizer, BM25 ordering, and where the confidence threshold falls."""
from __future__ import annotations

from dataclasses import dataclass, field

import pytest

from chalicelib.bot.ranking import DEFAULT_THRESHOLD, best_match, rank, tokenize


@dataclass(frozen=True)
class Entry:
    faq_id: str
    question: str
    keywords: list[str] = field(default_factory=list)


SHOP_FAQ = [
    Entry("faq_01", "What is your return policy?", ["returns", "refund", "exchange"]),
    Entry("faq_02", "How long does shipping take?", ["delivery", "shipping time", "dispatch"]),
    Entry("faq_03", "How do I reset my password?", ["login", "forgot password", "account"]),
    Entry("faq_04", "Do you ship internationally?", ["international", "abroad", "overseas"]),
    Entry("faq_05", "How can I track my order?", ["tracking", "order status", "where is my order"]),
    Entry("faq_06", "What payment methods do you accept?", ["credit card", "paypal", "pay"]),
    Entry("faq_07", "Can I cancel my order?", ["cancel", "cancellation"]),
    Entry("faq_08", "What are your opening hours?", ["open", "hours", "closed"]),
]
# Entries that share no word with SHOP_FAQ: a bigger tenant with the same shop questions.
FILLER = [Entry(f"faq_f{n:03}", f"Question about widget{n} and gadget{n}", [f"thing{n}"])
          for n in range(192)]


# --- Tokenizer ----------------------------------------------------------------------------
def test_tokens_are_case_folded_without_punctuation_or_stop_words():
    assert tokenize("What's YOUR Return-Policy?!") == ["return", "policy"]
    assert tokenize("hi there, how are you? thanks!") == []


def test_accents_and_compatibility_forms_fold_away():
    assert tokenize("Où est ma commande, s'il vous plaît?") == tokenize("ou est ma commande s il vous plait")
    assert tokenize("Crème BRÛLÉE") == tokenize("creme brulee")
    assert tokenize("ＷｉＦｉ") == ["wifi"]


def test_inflections_meet_at_one_term():
    assert set(tokenize("shipping shipped ships ship")) == {"ship"}
    assert tokenize("returns refunded") == tokenize("return refund")


def test_cjk_runs_become_bigrams_cut_at_function_characters():
    assert tokenize("退货政策") == ["退货", "货政", "政策"]
    assert tokenize("我想退货") == ["退货"]  # "I want to return goods"
    assert tokenize("退货policy?") == ["退货", "policy"]
    assert tokenize("书") == ["书"]
    assert tokenize("한국어 지원") == ["한국", "국어", "지원"]


def test_a_cjk_question_matches_a_shorter_cjk_query():
    entries = [Entry("faq_cn", "退货政策是什么？"), Entry("faq_ship", "运费多少钱？")]
    match = best_match("我想退货", entries)
    assert match is not None and match.faq_id == "faq_cn" and match.confidence == 1.0


CHINESE_FAQ = [
    Entry("faq_ret", "退货政策是什么？", ["退货", "退款"]),
    Entry("faq_ship", "运费是多少？", ["运费", "快递"]),
    Entry("faq_pay", "支持哪些付款方式？", ["付款", "支付宝", "微信支付"]),
]


@pytest.mark.parametrize("query, expected, confidence", [
    ("我想退货怎么办", "faq_ret", 1.0),  # the lone 办 left between function characters is held by no entry
    ("运费多少", "faq_ship", 1.0),  # 费多 straddles 运费 and 多少
    ("可以用支付宝付款吗", "faq_pay", 0.8),  # 宝付 straddles; the keyword 支付宝 is found whole in the message
    ("能用 微信 支付吗", "faq_pay", 1.0),  # the keyword 微信支付 across spaces
    ("请问退货政策是什么", "faq_ret", 0.75),  # 问退 is unknown but not between two known bigrams: it counts
])
def test_chinese_questions_without_spaces_meet_their_entry(query: str, expected: str, confidence: float):
    match = best_match(query, CHINESE_FAQ)
    assert match is not None and match.faq_id == expected, rank(query, CHINESE_FAQ)
    assert match.confidence == pytest.approx(confidence)


@pytest.mark.parametrize("query", ["付款失败", "我的订单在哪", "你们几点开门"])
def test_chinese_strangers_are_not_answered(query: str):
    # 付款失败 (payment failed) holds 付款 of "payment methods" but unknown 款失 and 失败 too: 1/3.
    assert best_match(query, CHINESE_FAQ) is None, rank(query, CHINESE_FAQ)


# --- BM25 ordering --------------------------------------------------------------------------
def test_keywords_count_more_than_the_question():
    entries = [Entry("faq_a", "Parcel delivery times"), Entry("faq_b", "Delivery times", ["parcel"])]
    assert [m.faq_id for m in rank("parcel", entries)] == ["faq_b", "faq_a"]


def test_rare_terms_outweigh_common_ones():
    entries = [Entry("faq_a", "order gift wrapping"), Entry("faq_b", "order invoice"),
               Entry("faq_c", "order status")]
    # "order" is in every entry; "invoice" in one: the entry holding the rare term wins.
    assert rank("order invoice", entries)[0].faq_id == "faq_b"
    assert rank("order", entries)[0].score < rank("invoice", entries)[0].score


def test_shorter_entries_win_on_equal_term_counts():
    entries = [Entry("faq_long", "refund for damaged fragile glass items bought in store"),
               Entry("faq_short", "refund rules")]
    assert [m.faq_id for m in rank("refund", entries)] == ["faq_short", "faq_long"]


def test_ties_are_broken_by_faq_id_and_strangers_are_left_out():
    entries = [Entry("faq_b", "gift cards"), Entry("faq_a", "gift cards"), Entry("faq_c", "opening hours")]
    assert [m.faq_id for m in rank("gift", entries)] == ["faq_a", "faq_b"]


# --- Confidence and the threshold -------------------------------------------------------
@pytest.mark.parametrize("query, expected", [
    ("what's your returns policy?", "faq_01"),
    ("Can I get a refund?", "faq_01"),
    ("How long does delivery take", "faq_02"),
    ("I forgot my password", "faq_03"),
    ("reset password for my shop", "faq_03"),  # two of three words: 0.67
    ("where is my order??", "faq_05"),
    ("do you accept paypal", "faq_06"),
    ("I want to cancel my order", "faq_07"),
    ("when are you open", "faq_08"),
    ("Hello! Could you please tell me what your returns policy is? Thanks", "faq_01"),
])
def test_paraphrases_are_answered_by_the_right_entry(query: str, expected: str):
    for entries in (SHOP_FAQ, SHOP_FAQ + FILLER):
        match = best_match(query, entries)
        assert match is not None and match.faq_id == expected, (query, len(entries))


@pytest.mark.parametrize("query", [
    "do you sell cars",
    "hi there",
    "thanks!",
    "what is the weather today",
    "do you sell gift cards",
    "how do I change my email address",
    # One of two equally rare words (confidence 0.5): related, but not what was asked.
    "payment failed",
    "my order arrived broken",
])
def test_strangers_and_greetings_are_not_answered(query: str):
    for entries in (SHOP_FAQ, SHOP_FAQ + FILLER):
        assert best_match(query, entries) is None, (query, len(entries))


def test_the_threshold_sits_between_half_and_two_thirds_of_the_query():
    half = rank("payment failed", SHOP_FAQ)[0].confidence
    two_thirds = rank("reset password for my shop", SHOP_FAQ)[0].confidence
    assert half == pytest.approx(0.5) and two_thirds == pytest.approx(2 / 3)
    assert half < DEFAULT_THRESHOLD <= two_thirds


@pytest.mark.parametrize("query, entry", [
    ("what's your returns policy?", SHOP_FAQ[0]),
    ("payment failed", SHOP_FAQ[5]),
    ("reset password for my shop", SHOP_FAQ[2]),
])
def test_confidence_does_not_depend_on_the_size_of_the_faq(query: str, entry: Entry):
    confidences = {len(faq): next(m.confidence for m in rank(query, faq) if m.faq_id == entry.faq_id)
                   for faq in ([entry], SHOP_FAQ, SHOP_FAQ + FILLER)}
    assert max(confidences.values()) == pytest.approx(min(confidences.values())), confidences


def test_confidence_does_not_depend_on_filler_or_repetition():
    plain = rank("return policy", SHOP_FAQ)[0].confidence
    padded = rank("Hi! Please, what is the return policy, the return policy? Thanks", SHOP_FAQ)[0]
    assert plain == padded.confidence == 1.0


def test_nothing_to_match_is_none():
    assert best_match("what is your return policy", []) is None
    assert best_match("how are you doing?", SHOP_FAQ) is None  # stop words only
    assert rank("...!?", SHOP_FAQ) == []
