"""Finding conversations: the filtered listing and search, each request one bounded Query page.

Agents look in their own conversations (agent-index), as does anyone naming agent_id; everyone else in
the tenant's (the table, whose conversation ids sort by creation). Newest first. The opened date
(from/to) is the agent-index's range key; status, team, channel and, on the tenant's list, the date
are filter expressions on that one page; tag (a label, or a tag of the visitor) and the search's words
are matched here, on the page, with the page's visitors and agents read in one BatchGet each. So a
page may hold fewer items than it looked at, even none, and still carry a next_cursor.
"""
from __future__ import annotations

import itertools
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from pynamodb.expressions.condition import Condition

from ..access.principals import Principal
from ..audit.trail import record_event
from ..storage.agents import AgentModel
from ..storage.conversations import ConversationModel
from ..storage.helpers import decode_cursor, encode_cursor
from ..storage.visitors import VisitorModel
from . import schemas as s
from .labels import fold, terms
from .queries import conversation_out, messages_of, sees_everything

LIST_PAGE, SEARCH_PAGE = 50, 100
# Text search decrypts: at most this many conversations a request, this many messages each.
TEXT_SEARCH_PAGE, MESSAGES_SEARCHED = 20, 1000
SNIPPET_BEFORE, SNIPPET_LENGTH = 40, 160
_INDEX_KEYS = {"tenant_id", "conversation_id", "agent_key", "created_at"}


@dataclass(frozen=True)
class Page:
    conversations: list[ConversationModel]
    visitors: dict[str, VisitorModel]
    agent_names: dict[str, str | None]
    next_cursor: str | None

    def row(self, conversation: ConversationModel) -> s.ConversationRow:
        visitor = self.visitors.get(conversation.visitor_id)
        return s.ConversationRow(**conversation_out(conversation).model_dump(),
                                 visitor_name=visitor.name if visitor else None,
                                 visitor_email=visitor.email if visitor else None,
                                 agent_name=self.agent_names.get(conversation.agent_id or ""))

    def tagged(self, conversation: ConversationModel, tag: str | None) -> bool:
        visitor = self.visitors.get(conversation.visitor_id)
        return tag is None or tag in conversation.labels or (
            visitor is not None and tag in {fold(t) for t in visitor.tags})


def _stamp(value: str) -> datetime:
    return datetime.fromisoformat(value)


def _filters(query: s.ConversationQuery, on_index: bool) -> Condition | None:
    c = ConversationModel
    conditions: list[Condition] = []
    if query.status:
        conditions.append(c.status == query.status)
    if query.team:
        conditions.append(c.team.does_not_exist() if query.team == "*" else c.team == query.team)
    if query.channel == "web":
        conditions.append(c.channel.does_not_exist() | (c.channel == "web"))
    elif query.channel == "email":
        conditions.append(c.channel == "email")
    if not on_index:  # the agent-index has the date as its range key
        if query.range_from:
            conditions.append(c.created_at >= _stamp(query.range_from))
        if query.range_to:
            conditions.append(c.created_at < _stamp(query.range_to))
    combined: Condition | None = None
    for condition in conditions:
        combined = condition if combined is None else combined & condition
    return combined


def find(principal: Principal, query: s.ConversationQuery, size: int) -> Page:
    """One Query request: at most `size` conversations looked at, those the filters keep returned."""
    agent_id = principal.id if not sees_everything(principal) else query.agent_id
    pinned = {"tenant_id": principal.tenant_id}
    if agent_id:
        agent_key = f"{principal.tenant_id}#{agent_id}"
        opened = ConversationModel.created_at
        start = _stamp(query.range_from) if query.range_from else None
        end = _stamp(query.range_to) - timedelta(microseconds=1) if query.range_to else None
        dated = (opened.between(start, end) if start and end else
                 opened >= start if start else opened <= end if end else None)
        results = ConversationModel.agent_index.query(agent_key, dated, filter_condition=_filters(query, on_index=True),
                              scan_index_forward=False, page_size=size,
                              last_evaluated_key=decode_cursor(query.cursor, _INDEX_KEYS,
                                                               {**pinned, "agent_key": agent_key}))
    else:
        results = ConversationModel.query(
            principal.tenant_id, filter_condition=_filters(query, on_index=False), scan_index_forward=False,
            page_size=size,
            last_evaluated_key=decode_cursor(query.cursor, {"tenant_id", "conversation_id"}, pinned))
    # One page only (pynamodb would go on reading until `size` items passed the filter).
    raw: dict[str, Any] = next(results.page_iter, {})
    conversations = [ConversationModel.from_raw_data(item) for item in raw.get("Items", [])]
    return Page(conversations, _visitors(principal.tenant_id, conversations),
                _agent_names(principal.tenant_id, {c.agent_id for c in conversations if c.agent_id}),
                encode_cursor(results.page_iter.last_evaluated_key))


def _visitors(tenant_id: str, conversations: list[ConversationModel]) -> dict[str, VisitorModel]:
    keys = sorted({c.visitor_id for c in conversations})
    return {v.visitor_id: v for v in VisitorModel.batch_get(
        [(tenant_id, visitor_id) for visitor_id in keys],
        attributes_to_get=["tenant_id", "visitor_id", "name", "email", "tags"])} if keys else {}


def _agent_names(tenant_id: str, agent_ids: set[str]) -> dict[str, str | None]:
    if not agent_ids:
        return {}
    return {a.agent_id: a.name for a in AgentModel.batch_get(
        [(tenant_id, agent_id) for agent_id in sorted(agent_ids)], attributes_to_get=["tenant_id", "agent_id", "name"])}


def list_conversations(principal: Principal, query: s.ConversationQuery) -> s.ConversationList:
    page = find(principal, query, LIST_PAGE)
    return s.ConversationList(items=[page.row(c) for c in page.conversations if page.tagged(c, query.tag)],
                              next_cursor=page.next_cursor, evaluated=len(page.conversations))


def search(principal: Principal, query: s.SearchQuery) -> s.SearchResult:
    """Every word must be found: in the conversation's metadata, or (text=true) in its messages."""
    words = terms(query.q)
    page = find(principal, query, TEXT_SEARCH_PAGE if query.text else SEARCH_PAGE)
    hits, text_searched = [], 0
    for conversation in page.conversations:
        if not page.tagged(conversation, query.tag):
            continue
        row = page.row(conversation)
        fields = _metadata(row, page.visitors.get(conversation.visitor_id))
        matched = [name for name, value in fields.items() if any(w in value for w in words)]
        missing = [w for w in words if not any(w in value for value in fields.values())]
        snippet = None
        if missing and query.text and conversation.data_keys and conversation.shredded_at is None:
            text_searched += 1
            snippet = _search_text(principal, conversation, missing)
            if snippet is not None:
                matched.append("text")
                missing = []
        if not missing:
            hits.append(s.SearchHit(**row.model_dump(), matched=matched, snippet=snippet))
    return s.SearchResult(items=hits, next_cursor=page.next_cursor, evaluated=len(page.conversations),
                          text_searched=text_searched)


def _metadata(row: s.ConversationRow, visitor: VisitorModel | None) -> dict[str, str]:
    values: dict[str, list[str | None]] = {
        "visitor": [row.visitor_name, row.visitor_email], "labels": list(row.labels),
        "tags": list(visitor.tags) if visitor else [], "agent": [row.agent_id, row.agent_name],
        "status": [row.status], "team": [row.team], "id": [row.conversation_id, row.visitor_id]}
    # Folded words never hold a space, so a word is never found across two values.
    return {name: fold(" ".join(v for v in found if v)) for name, found in values.items()}


def _search_text(principal: Principal, conversation: ConversationModel, words: list[str]) -> str | None:
    """The conversation's messages (up to MESSAGES_SEARCHED) decrypted and searched; audited as a
    transcript read whoever reads. A snippet of the first message holding a word when all are found."""
    texts = [m.text for m in itertools.islice(messages_of(conversation), MESSAGES_SEARCHED) if m.text]
    record_event(principal.tenant_id, principal.actor, "transcript.read", conversation.conversation_id,
                 {"search": True, "count": len(texts)})
    folded = [fold(text) for text in texts]
    if not all(any(w in text for text in folded) for w in words):
        return None
    return next(_snippets(texts, folded, words), None)


def _snippets(texts: list[str], folded: list[str], words: list[str]) -> Iterator[str]:
    for text, searched in zip(texts, folded, strict=True):
        at = min((searched.find(w) for w in words if w in searched), default=-1)
        if at >= 0:
            # Folding may shorten a text (white space, full-width forms): the place is near enough.
            start = max(0, min(at, len(text)) - SNIPPET_BEFORE)
            yield ("…" if start else "") + text[start:start + SNIPPET_LENGTH]
