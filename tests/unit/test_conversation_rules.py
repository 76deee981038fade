"""Business hours in the tenant's time zone, and recognising a visitor who asks for a person."""
from datetime import UTC, datetime

import pytest

from chalicelib.conversations.hours import is_open
from chalicelib.storage.settings import Settings

PARIS_WEEKDAYS = Settings(timezone="Europe/Paris", business_hours={
    "mon": [["09:00", "12:00"], ["13:00", "17:30"]], "tue": [["09:00", "24:00"]], "sun": []})


@pytest.mark.parametrize("utc, expected", [
    ("2026-11-23T08:30:00", True),   # Monday 09:30 in Paris (UTC+1)
    ("2026-11-23T07:59:00", False),  # Monday 08:59 in Paris
    ("2026-11-23T11:30:00", False),  # Monday lunch break
    ("2026-11-23T16:29:00", True),   # Monday 17:29
    ("2026-11-23T16:30:00", False),  # Monday 17:30: the range ends
    ("2026-11-24T22:59:00", True),   # Tuesday 23:59 ("24:00" closes the day)
    ("2026-11-29T12:00:00", False),  # Sunday: no ranges
    ("2026-11-28T12:00:00", False),  # Saturday: not listed
    ("2026-07-06T07:30:00", True),   # Monday 09:30 in Paris in summer (UTC+2)
])
def test_hours_in_the_tenants_time_zone(utc: str, expected: bool):
    at = datetime.fromisoformat(utc).replace(tzinfo=UTC)
    assert is_open(PARIS_WEEKDAYS, at) is expected


def test_no_business_hours_means_always_open():
    assert is_open(Settings(), datetime(2026, 11, 29, 3, tzinfo=UTC))


@pytest.mark.parametrize("text, wanted", [
    ("Can I talk to a human?", True), ("I want an AGENT", True), ("转人工", True), ("找客服", True),
    ("转 人 工", True), ("我要找人工服务", True), ("ＨＵＭＡＮ please", True),
    ("is this personal data safe?", False), ("do your agents ship abroad", False), ("humane", False),
    ("我想退货", False),
])
def test_asking_for_a_person_by_the_default_phrases(text: str, wanted: bool):
    from chalicelib.bot.handoff import handoff_phrase_in

    assert (handoff_phrase_in(text, Settings().handoff_phrases) is not None) is wanted


@pytest.mark.parametrize("text, wanted", [
    ("can I talk to a real person", True), ("Talk  To a REAL person!", True), ("talk to a person", False),
    ("请帮我转接真人", True), ("真 人", True), ("真的", False), ("human", False),
])
def test_asking_for_a_person_by_the_tenant_s_phrases(text: str, wanted: bool):
    from chalicelib.bot.handoff import handoff_phrase_in

    assert (handoff_phrase_in(text, ["a real person", "真人"]) is not None) is wanted
