"""Each counted event is one transaction of the conversation's fact item and its counters: an event
delivered twice (a retried Lambda) is counted once, and the facts always agree with the counters."""
from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta

from chalicelib.reports import counters
from chalicelib.storage.conversations import ConversationModel
from chalicelib.storage.settings import Settings

CREATED = datetime(2026, 12, 7, 9, 15, tzinfo=UTC)


def conversation(n: int) -> ConversationModel:
    return ConversationModel("t_facts", f"c_{n:04d}", visitor_id="v_1", visitor_key="t_facts#v_1", status="assigned",
                             agent_id="a_kim", created_at=CREATED, queued_at=CREATED,
                             assigned_at=CREATED + timedelta(seconds=5))


def hour_totals() -> dict[str, int]:
    return dict(counters.read("t_facts", "2026-12-07T09", "2026-12-07T09")[0][1])


def test_an_event_delivered_twice_is_counted_once(aws):
    chat = conversation(1)
    for _ in range(2):
        counters.conversation_opened(chat)
        counters.first_response(chat, CREATED + timedelta(seconds=90), Settings())
        chat.first_response_at = CREATED + timedelta(seconds=90)
        counters.conversation_closed(chat, "assigned", CREATED + timedelta(seconds=300), "resolved")
        counters.survey_answered("t_facts", chat.conversation_id, CREATED, "a_kim", 4)
    totals = hour_totals()
    assert {name: totals.get(name) for name in ("conversations", "first_responses", "sla_breaches", "closed",
                                                 "resolved", "handled", "csat_responses", "csat_sum")} == {
        "conversations": 1, "first_responses": 1, "sla_breaches": 1, "closed": 1, "resolved": 1, "handled": 1,
        "csat_responses": 1, "csat_sum": 4}
    assert "abandoned" not in totals  # it was answered before it closed


def test_concurrent_events_of_one_hour_are_all_counted(aws):
    chats = [conversation(n) for n in range(24)]
    with ThreadPoolExecutor(8) as pool:
        list(pool.map(counters.conversation_opened, chats))
        list(pool.map(lambda chat: counters.conversation_closed(chat, "queued", CREATED, None), chats))
    totals = hour_totals()
    assert (totals["conversations"], totals["closed"], totals["abandoned"]) == (24, 24, 24)
