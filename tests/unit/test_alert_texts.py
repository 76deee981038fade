"""The SLA digest's durations and times, in both languages (chalicelib/alerts/digest.py)."""
from __future__ import annotations

from datetime import UTC, datetime

import pytest

from chalicelib.alerts.digest import duration, local_time


@pytest.mark.parametrize(("seconds", "en", "zh"), [
    (1, "1 second", "1 秒"), (59, "59 seconds", "59 秒"), (60, "1 minute", "1 分钟"), (3599, "59 minutes", "59 分钟"),
    (3600, "1 hour", "1 小时"), (7200, "2 hours", "2 小时"), (3900, "1 h 5 min", "1 小时 5 分钟")])
def test_durations_read_naturally_in_each_language(seconds: int, en: str, zh: str):
    assert (duration(seconds, "en"), duration(seconds, "zh-CN")) == (en, zh)


def test_times_are_the_tenants_and_carry_the_date_only_when_it_is_not_today_there():
    now = datetime(2026, 12, 7, 20, 0, tzinfo=UTC)  # 04:00 on the 8th in Shanghai
    assert local_time(datetime(2026, 12, 7, 19, 30, tzinfo=UTC), "Asia/Shanghai", now) == "03:30"
    assert local_time(datetime(2026, 12, 7, 15, 30, tzinfo=UTC), "Asia/Shanghai", now) == "2026-12-07 23:30"
    assert local_time(datetime(2026, 12, 7, 15, 30, tzinfo=UTC), "UTC", now) == "15:30"
