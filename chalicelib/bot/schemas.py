"""Request and response models for the FAQ and its match preview."""
from __future__ import annotations

from typing import Annotated

from pydantic import Field

from ..web.schemas import Input, Output, Page, QueryInput

Question = Annotated[str, Field(min_length=1, max_length=300)]
Answer = Annotated[str, Field(min_length=1, max_length=2000)]
Keyword = Annotated[str, Field(min_length=1, max_length=50)]


class FaqIn(Input):
    """POST creates an entry; PUT replaces one whole (omitted keywords become [])."""
    question: Question
    answer: Answer
    keywords: Annotated[list[Keyword], Field(max_length=20)] = []


class FaqOut(Output):
    faq_id: str
    question: str
    answer: str
    keywords: list[str]
    created_at: str
    updated_at: str


class FaqList(Page):
    items: list[FaqOut]


class MatchQuery(QueryInput):
    q: Annotated[str, Field(min_length=1, max_length=4000, description="a visitor's message")]


class FaqMatch(Output):
    faq_id: str
    question: str
    score: float = Field(description="BM25 score: orders the matches of one query")
    confidence: float = Field(description="0..1, comparable across queries (docs/bot.md)")


class FaqMatchList(Output):
    threshold: float = Field(description="the confidence the bot needs to answer")
    answer_faq_id: str | None = Field(
        description="the entry the bot would answer with; null: it would hand over to a human")
    handoff_phrase: str | None = Field(
        default=None, description="the tenant's handoff phrase the message holds, if any: the bot hands "
                                  "it to a human without answering")
    matches: list[FaqMatch] = Field(description="best first, at most 10")
