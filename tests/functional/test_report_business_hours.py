"""First response and SLA in business hours: the nights and breaks the tenant is closed do not count
(GET /v1/reports/summary?hours=business, and the per-conversation CSV's business columns)."""
from __future__ import annotations

import csv
import io
from datetime import UTC, datetime, timedelta

import pytest

from chalicelib.reports.business_time import business_seconds
from chalicelib.storage.conversations import ConversationModel
from chalicelib.storage.settings import Settings
from devstack.harness import agent, visitor

WEEKDAYS = {day: [["09:00", "17:00"]] for day in ("mon", "tue", "wed", "thu", "fri")}


def test_business_seconds_leave_out_nights_weekends_and_breaks():
    shanghai = Settings(timezone="Asia/Shanghai", business_hours={**WEEKDAYS, "sat": [], "sun": []})
    friday_five_pm = datetime(2026, 12, 4, 9, 0, tzinfo=UTC)  # 17:00 in Shanghai
    assert business_seconds(shanghai, friday_five_pm - timedelta(minutes=10), friday_five_pm) == 600
    monday_half_past_nine = friday_five_pm + timedelta(days=2, hours=16, minutes=30)
    assert business_seconds(shanghai, friday_five_pm, monday_half_past_nine) == 1800
    assert business_seconds(Settings(), friday_five_pm, friday_five_pm + timedelta(hours=2)) == 7200  # always open
    split = Settings(business_hours={"mon": [["09:00", "12:00"], ["13:00", "24:00"]]})
    monday = datetime(2026, 12, 7, 11, 50, tzinfo=UTC)
    assert business_seconds(split, monday, monday + timedelta(hours=1, minutes=30)) == 600 + 1200
    late = monday.replace(hour=23, minute=0)  # open until midnight; Tuesday has no hours
    assert business_seconds(split, late, late + timedelta(hours=2)) == 3600
    assert business_seconds(split, monday, monday) == 0


@pytest.mark.frozen_clock
def test_the_report_measures_first_response_in_business_hours_when_asked(api, tenant, clock):
    t = tenant["tenant_id"]
    now = clock.utcnow()
    clock.advance((now.replace(hour=10, minute=0, second=0, microsecond=0) + timedelta(days=1) - now).total_seconds())
    tenant["admin_token"] = api.login(t, "admin@acme.com")  # a day later: the signup's session is over
    every_day = {day: [["09:00", "10:30"], ["11:30", "18:00"]] for day in WEEKDAYS | {"sat": 0, "sun": 0}}
    assert api.call("PUT", "/v1/settings", {"timezone": "UTC", "business_hours": every_day,
                                            "sla_first_response_seconds": 60},
                    token=tenant["admin_token"]).status_code == 200
    sam = agent(api, tenant, "sam@acme.com")
    sam.send(action="presence.set", status="online")
    start = clock.utcnow()
    waits = []
    # 10:00 -> 11:40: 100 min on the clock, 40 open (30 before the break, 10 after it).
    # 10:29:30 -> 11:30:20: about an hour on the clock, 50 s open: within the SLA in business hours only.
    for opened_at, answered_at in ((0, 6000), (1770, 5420)):
        clock.advance(opened_at - (clock.utcnow() - start).total_seconds())
        vera = visitor(api, tenant)
        vera.send(action="message.send", client_msg_id="v1", text="hello")
        conversation_id = vera.of_type("ack")[0]["conversation_id"]
        assert ConversationModel.get(t, conversation_id).status == "assigned"
        clock.advance(answered_at - (clock.utcnow() - start).total_seconds())
        sam.send(action="message.send", conversation_id=conversation_id, client_msg_id="a1", text="hi")
        waits.append(answered_at - opened_at)
    token = api.login(t, "admin@acme.com")
    frm = start.strftime("%Y-%m-%dT%H:%M:%SZ")
    until = (start + timedelta(hours=3)).strftime("%Y-%m-%dT%H:%M:%SZ")

    def report(hours: str) -> dict:
        response = api.call("GET", f"/v1/reports/summary?from={frm}&to={until}&hours={hours}", token=token)
        assert response.status_code == 200, response.body
        return response.json_body

    clock_time, business = report("clock"), report("business")
    assert (clock_time["hours"], business["hours"]) == ("clock", "business")
    assert clock_time["sla_breaches"] == 2 and business["sla_breaches"] == 1
    assert clock_time["first_response_seconds"]["count"] == business["first_response_seconds"]["count"] == 2
    assert business["first_response_seconds"]["p95"] < clock_time["first_response_seconds"]["p95"]
    assert [row["sla_breaches"] for row in business["by_agent"]] == [1]
    rows = list(csv.DictReader(io.StringIO(api.call(
        "GET", f"/v1/reports/conversations.csv?from={frm}&to={until}", token=token).body.decode())))
    assert sorted(float(row["first_response_seconds"]) for row in rows) == sorted(waits)
    assert sorted(float(row["first_response_business_seconds"]) for row in rows) == [50, 2400]
    assert sorted(row["business_sla_breached"] for row in rows) == ["0", "1"]
