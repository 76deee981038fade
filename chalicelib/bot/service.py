"""FAQ entries an admin keeps, and the answer the bot gives a visitor's message."""
from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from ..access.principals import Principal
from ..clock import iso
from ..errors import Conflict, NotFound
from ..ids import new_id
from ..runtime import runtime
from ..storage.answers import FaqModel
from ..storage.helpers import refusal_means, tenant_page, transaction
from ..storage.settings import Settings
from ..storage.tenants import TenantModel, get_tenant
from . import ranking
from . import schemas as s
from .handoff import handoff_phrase_in

MAX_ENTRIES = 200
MATCH_PREVIEW_SIZE = 10


def _now() -> datetime:
    return runtime().clock.utcnow()


def faq_out(entry: FaqModel) -> s.FaqOut:
    return s.FaqOut(faq_id=entry.faq_id, question=entry.question, answer=entry.answer,
                    keywords=list(entry.keywords), created_at=iso(entry.created_at),
                    updated_at=iso(entry.updated_at))


# --- The bot ------------------------------------------------------------------------------
def answer_for(tenant_id: str, text: str, handoff_phrases: Sequence[str]) -> tuple[str, str] | None:
    """(faq_id, answer) for a visitor's message, or None (hand over) when it holds one of the
    tenant's handoff phrases or no entry answers it confidently."""
    if handoff_phrase_in(text, handoff_phrases) is not None:
        return None
    entries = _all_entries(tenant_id)
    match = ranking.best_match(text, entries)
    if match is None:
        return None
    return match.faq_id, next(entry.answer for entry in entries if entry.faq_id == match.faq_id)


def preview_match(principal: Principal, query: str) -> s.FaqMatchList:
    """What the bot would make of a message, so an admin can tune questions, keywords and phrases."""
    phrases = Settings.model_validate(get_tenant(principal.tenant_id).settings).handoff_phrases
    phrase = handoff_phrase_in(query, phrases)
    entries = _all_entries(principal.tenant_id)
    questions = {entry.faq_id: entry.question for entry in entries}
    ranked = ranking.rank(query, entries)
    confident = ranking.first_confident(ranked)
    return s.FaqMatchList(
        threshold=ranking.DEFAULT_THRESHOLD, handoff_phrase=phrase,
        answer_faq_id=confident.faq_id if confident and phrase is None else None,
        matches=[s.FaqMatch(faq_id=match.faq_id, question=questions[match.faq_id],
                            score=round(match.score, 4), confidence=round(match.confidence, 4))
                 for match in ranked[:MATCH_PREVIEW_SIZE]])


def _all_entries(tenant_id: str) -> list[FaqModel]:
    # At most MAX_ENTRIES items in one partition: one Query (DynamoDB pages it only past 1 MB,
    # which 200 entries reach only near their maximum sizes).
    return list(FaqModel.query(tenant_id))


# --- Admin CRUD ---------------------------------------------------------------------------
def create_entry(principal: Principal, body: s.FaqIn) -> s.FaqOut:
    now = _now()
    entry = FaqModel(principal.tenant_id, new_id("faq"), question=body.question, answer=body.answer,
                     keywords=list(body.keywords), created_at=now, updated_at=now)
    below_cap = TenantModel.faq_count.does_not_exist() | (TenantModel.faq_count < MAX_ENTRIES)
    # faq ids are fresh, so only the count can refuse this transaction.
    with refusal_means(Conflict(f"A tenant may keep at most {MAX_ENTRIES} FAQ entries.",
                                code="limit_reached")):
        with transaction() as tx:
            tx.save(entry, condition=FaqModel.faq_id.does_not_exist())
            tx.update(TenantModel(principal.tenant_id), actions=[TenantModel.faq_count.add(1)],
                      condition=TenantModel.tenant_id.exists() & below_cap)
    return faq_out(entry)


def list_entries(principal: Principal, cursor: str | None) -> s.FaqList:
    entries, next_cursor = tenant_page(FaqModel, principal.tenant_id, cursor)
    return s.FaqList(items=[faq_out(entry) for entry in entries], next_cursor=next_cursor)


def replace_entry(principal: Principal, faq_id: str, body: s.FaqIn) -> s.FaqOut:
    entry = FaqModel(principal.tenant_id, faq_id)
    with refusal_means(_no_such_entry()):
        entry.update(actions=[FaqModel.question.set(body.question), FaqModel.answer.set(body.answer),
                              FaqModel.keywords.set(list(body.keywords)),
                              FaqModel.updated_at.set(_now())],
                     condition=FaqModel.faq_id.exists())
    return faq_out(entry)


def delete_entry(principal: Principal, faq_id: str) -> s.FaqOut:
    """Removes an entry and answers with it (the contract's 200 carries a body)."""
    entry = FaqModel(principal.tenant_id, faq_id)
    try:
        entry.refresh(consistent_read=True)
    except FaqModel.DoesNotExist:
        raise _no_such_entry() from None
    with refusal_means(_no_such_entry()):
        with transaction() as tx:
            tx.delete(entry, condition=FaqModel.faq_id.exists())
            tx.update(TenantModel(principal.tenant_id), actions=[TenantModel.faq_count.add(-1)])
    return faq_out(entry)


def _no_such_entry() -> NotFound:
    return NotFound("No such FAQ entry.")
