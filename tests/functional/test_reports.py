"""Reports: GET /v1/reports/summary (and its CSV) against a brute-force count of the same conversations,
through the Chalice handlers on moto."""
from __future__ import annotations

import csv
import io
import math
import random
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from chalicelib.reports import histogram
from chalicelib.storage.conversations import ConversationModel
from devstack.harness import Api, MovableClock, Party, agent, run_job, visitor
from tests.functional.test_surveys_and_reports import answer
from tests.helpers import module_tenant, signed_up


def test_histogram_estimates_stay_within_the_documented_error():
    for seconds in [0.2, 1, 1.5, 7, 59, 61, 300, 3600, 86400]:
        estimate = histogram.estimate(histogram.bucket(seconds))
        assert seconds < 1 or abs(estimate - seconds) / seconds <= math.sqrt(histogram.RATIO) - 1 + 1e-3


@dataclass
class ReportedDay:
    api: Api
    tenant_id: str
    truth: list[dict]  # what the test knows of each conversation
    agents: dict[str, Party]  # agent id -> the agent's connection
    start: datetime
    frm: str
    until: str
    token: str  # an admin's
    report: dict  # the summary from `frm` to `until`

    @property
    def answered(self) -> list[dict]:
        return [c for c in self.truth if c["wait"] is not None]


@pytest.fixture(scope="module")
def day(boto_session) -> Iterator[ReportedDay]:
    """Built once for the module, as it takes a while: every test below reads the same day, in an AWS
    and a tenant of its own."""
    # Time moves only when the test moves it: a wait of 59 s must not become 60 on a loaded machine.
    with module_tenant(boto_session) as (api, tenant, clock):
        yield reported_day(api, tenant, clock)


def reported_day(api: Api, tenant: dict, clock: MovableClock) -> ReportedDay:
    """Conversations at various hours and speeds, closed both ways, rated or not; the report must say
    exactly what a brute-force count of the same conversations says."""
    t = tenant["tenant_id"]
    api.call("PUT", "/v1/settings", {"timezone": "Asia/Tokyo", "sla_first_response_seconds": 60,
                                     "survey_delay_seconds": 0}, token=tenant["admin_token"])
    rng = random.Random(7)
    sam, kim = agent(api, tenant, "sam@acme.com"), agent(api, tenant, "kim@acme.com")
    agents = {}
    truth = []
    start = clock.utcnow()
    for n in range(14):
        helper = (sam, kim)[n % 2]
        helper.send(action="presence.set", status="online")
        vera = visitor(api, tenant)
        vera.send(action="message.send", client_msg_id="v1", text="hello")
        conversation_id = vera.of_type("ack")[0]["conversation_id"]
        conversation = ConversationModel.get(t, conversation_id)
        agents[conversation.agent_id] = helper
        wait = rng.choice([5, 30, 59, 61, 90, 400])
        clock.advance(wait)
        helper.send(action="message.send", conversation_id=conversation_id, client_msg_id="a1", text="hi")
        handle = rng.choice([30, 200, 1000])
        clock.advance(handle)
        resolution = "resolved" if n % 3 else "unresolved"
        helper.send(action="conversation.close", conversation_id=conversation_id, resolution=resolution)
        helper.send(action="presence.set", status="away")
        rating = rng.choice([None, 1, 3, 4, 5, 5]) if n != 0 else 5
        if rating:
            run_job("send-surveys")
            [frame] = vera.of_type("survey.request")
            assert answer(api, frame["survey_token"], rating=rating).status_code == 200
        truth.append({"created": conversation.created_at, "agent": conversation.agent_id, "wait": wait,
                      "handle": handle + wait, "resolution": resolution, "rating": rating, "held": True})
        clock.advance(rng.choice([600, 3600, 7200]))
    truth += abandoned_chats(api, tenant, sam, clock)
    # One the bot settles: counted as a conversation, never answered.
    api.call("POST", "/v1/faq", {"question": "What are your opening hours?", "answer": "9 to 5."},
             token=api.login(t, "admin@acme.com"))
    bot_visitor = visitor(api, tenant)
    bot_visitor.send(action="message.send", client_msg_id="v1", text="what are your opening hours?")
    bot_conversation = bot_visitor.of_type("ack")[0]["conversation_id"]
    bot_visitor.send(action="conversation.close", conversation_id=bot_conversation)
    truth.append({"created": ConversationModel.get(t, bot_conversation).created_at, "agent": None, "wait": None,
                  "handle": None, "resolution": None, "rating": None, "bot": True, "held": False})

    token = api.login(t, "admin@acme.com")
    frm = start.replace(minute=0, second=0, microsecond=0).strftime("%Y-%m-%dT%H:%M:%SZ")
    until = (clock.utcnow() + timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
    response = api.call("GET", f"/v1/reports/summary?from={frm}&to={until}", token=token)
    assert response.status_code == 200, response.body
    return ReportedDay(api, t, truth, agents, start, frm, until, token, response.json_body)


def abandoned_chats(api: Api, tenant: dict, sam: Party, clock: MovableClock) -> list[dict]:
    """Two visitors who leave before a person answers: one assigned to Sam (who never replies), one
    still queued (nobody online)."""
    chats = []
    for online in (True, False):
        sam.send(action="presence.set", status="online" if online else "away")
        leaver = visitor(api, tenant)
        leaver.send(action="message.send", client_msg_id="v1", text="anyone there?")
        conversation_id = leaver.of_type("ack")[0]["conversation_id"]
        conversation = ConversationModel.get(tenant["tenant_id"], conversation_id)
        assert conversation.status == ("assigned" if online else "queued")
        clock.advance(45)
        leaver.send(action="conversation.close", conversation_id=conversation_id)
        chats.append({"created": conversation.created_at, "agent": conversation.agent_id, "wait": None,
                      "handle": None, "resolution": None, "rating": None, "abandoned": True, "held": online})
        clock.advance(600)
    sam.send(action="presence.set", status="away")
    return chats


def expected_percentile(values: list[float], fraction: float) -> float:
    """The histogram's estimate of the exact percentile: what the report can know."""
    exact = sorted(values)[max(1, math.ceil(fraction * len(values))) - 1]
    return histogram.estimate(histogram.bucket(exact))


def test_the_report_counts_every_conversation_and_every_close(day: ReportedDay):
    assert day.report["conversations"] == len(day.truth)
    assert day.report["closed"] == len(day.truth)


def test_the_report_counts_resolutions_and_their_rate(day: ReportedDay):
    report, truth = day.report, day.truth
    assert report["resolved"] == sum(c["resolution"] == "resolved" for c in truth)
    assert report["resolution_rate"] == round(report["resolved"] / len(truth), 4)


def test_the_report_counts_what_the_bot_settled(day: ReportedDay):
    assert day.report["bot_contained"] == 1


def test_the_report_counts_the_chats_abandoned_before_a_person_answered(day: ReportedDay):
    assert day.report["abandoned"] == 2
    assert day.report["first_response_seconds"]["count"] == len(day.answered)


def test_the_report_counts_first_responses_past_the_sla(day: ReportedDay):
    assert day.report["sla_breaches"] == sum(c["wait"] > 60 for c in day.answered)


def test_the_reports_csat_is_the_ratings_given(day: ReportedDay):
    rated = [c["rating"] for c in day.truth if c["rating"]]
    assert day.report["csat"]["responses"] == len(rated)
    assert day.report["csat"]["average"] == round(sum(rated) / len(rated), 2)
    assert day.report["csat"]["distribution"] == {str(r): rated.count(r) for r in range(1, 6)}


def test_the_reports_percentiles_are_the_histograms_estimates_of_the_exact_ones(day: ReportedDay):
    report, answered = day.report, day.answered
    waits = [c["wait"] for c in answered]
    assert report["first_response_seconds"]["p50"] == expected_percentile(waits, 0.5)
    assert report["first_response_seconds"]["p90"] == expected_percentile(waits, 0.9)
    assert report["first_response_seconds"]["p95"] == expected_percentile(waits, 0.95)
    assert report["handle_seconds"]["p50"] == expected_percentile([c["handle"] for c in answered], 0.5)


def test_the_report_counts_conversations_by_hour_in_the_tenants_time_zone(day: ReportedDay):
    tokyo = ZoneInfo("Asia/Tokyo")
    by_hour = {h: 0 for h in range(24)}
    for c in day.truth:
        by_hour[c["created"].astimezone(tokyo).hour] += 1
    assert {row["hour"]: row["conversations"] for row in day.report["by_hour"]} == by_hour
    assert day.report["peak_hours"] == [h for h, n in by_hour.items() if n == max(by_hour.values())]


def test_the_report_has_each_agents_own_figures(day: ReportedDay):
    for row in day.report["by_agent"]:
        mine = [c for c in day.answered if c["agent"] == row["agent_id"]]
        held = [c for c in day.truth if c["held"] and c["agent"] == row["agent_id"]]
        ratings = [c["rating"] for c in mine if c["rating"]]
        assert row["conversations"] == len(held)
        assert row["abandoned"] == sum(bool(c.get("abandoned")) for c in held)
        assert row["csat_average"] == (round(sum(ratings) / len(ratings), 2) if ratings else None)
        assert row["first_responses"] == len(mine)
        assert row["first_response_p50"] == expected_percentile([c["wait"] for c in mine], 0.5)
        assert row["first_response_p90"] == expected_percentile([c["wait"] for c in mine], 0.9)
        assert row["sla_breaches"] == sum(c["wait"] > 60 for c in mine)
    assert sorted(row["agent_id"] for row in day.report["by_agent"]) == sorted(day.agents)


def test_the_report_as_csv_has_the_same_totals(day: ReportedDay):
    as_csv = day.api.call("GET", f"/v1/reports/summary.csv?from={day.frm}&to={day.until}", token=day.token)
    assert as_csv.headers["Content-Type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(as_csv.body.decode())))
    assert rows[0] == ["section", "name", "value"] and ["total", "conversations", str(len(day.truth))] in rows


def test_an_earlier_window_holds_none_of_it(day: ReportedDay):
    earlier = (day.start - timedelta(days=10)).strftime("%Y-%m-%dT%H:%M:%SZ")
    empty = day.api.call("GET", f"/v1/reports/summary?from={earlier}&to={day.frm}", token=day.token).json_body
    assert empty["conversations"] == 0 and empty["first_response_seconds"]["p50"] is None


def test_agents_may_not_read_reports(day: ReportedDay):
    sam = day.api.login(day.tenant_id, "sam@acme.com")
    assert day.api.call("GET", "/v1/reports/summary", token=sam).status_code == 403


@pytest.mark.parametrize("bad", ["from=2026-02-01T00:00:00Z&to=2026-01-01T00:00:00Z", "hours=night",
                                 "from=2020-01-01T00:00:00Z&to=2026-01-01T00:00:00Z", "from=yesterday"])
def test_a_bad_report_window_is_400(day: ReportedDay, bad: str):
    assert day.api.call("GET", f"/v1/reports/summary?{bad}", token=day.token).status_code == 400


def sums_of(rows: list[dict[str, str]], hours: str = "clock") -> dict:
    """The summary's figures, added up from the per-conversation CSV's rows."""
    column, breached = (("first_response_business_seconds", "business_sla_breached") if hours == "business"
                        else ("first_response_seconds", "sla_breached"))
    number = lambda row, name: int(row[name] or 0)  # noqa: E731
    waits = [float(row[column]) for row in rows if row[column]]
    handles = [float(row["handle_seconds"]) for row in rows if row["handle_seconds"]]
    ratings = [int(row["csat_rating"]) for row in rows if row["csat_rating"]]
    closed = sum(number(row, "closed") for row in rows)
    resolved = sum(row["resolution"] == "resolved" for row in rows)

    def estimated(values: list[float], fraction: float) -> float | None:
        return histogram.percentile(Counter(histogram.bucket(v) for v in values), fraction)

    agents = {row[name] for row in rows for name in ("handled_by", "first_response_agent_id", "csat_agent_id")
              if row[name]}
    by_agent = []
    for agent_id in sorted(agents):
        answered = [row for row in rows if row["first_response_agent_id"] == agent_id]
        held = [row for row in rows if row["handled_by"] == agent_id]
        rated = [int(row["csat_rating"]) for row in rows if row["csat_agent_id"] == agent_id and row["csat_rating"]]
        by_agent.append({"agent_id": agent_id, "conversations": len(held),
                         "csat_average": round(sum(rated) / len(rated), 2) if rated else None,
                         "csat_responses": len(rated), "first_responses": len(answered),
                         "first_response_p50": estimated([float(row[column]) for row in answered], 0.5),
                         "first_response_p90": estimated([float(row[column]) for row in answered], 0.9),
                         "sla_breaches": sum(number(row, breached) for row in answered),
                         "abandoned": sum(number(row, "abandoned") for row in held)})
    return {"conversations": sum(number(row, "opened") for row in rows), "closed": closed, "resolved": resolved,
            "unresolved": sum(row["resolution"] == "unresolved" for row in rows),
            "resolution_rate": round(resolved / closed, 4) if closed else None,
            "bot_contained": sum(number(row, "bot_contained") for row in rows),
            "abandoned": sum(number(row, "abandoned") for row in rows),
            "sla_breaches": sum(number(row, breached) for row in rows),
            "first_response_seconds": {"p50": estimated(waits, 0.5), "p90": estimated(waits, 0.9),
                                       "p95": estimated(waits, 0.95), "count": len(waits)},
            "handle_seconds": {"p50": estimated(handles, 0.5), "count": len(handles)},
            "csat": {"responses": len(ratings), "average": round(sum(ratings) / len(ratings), 2) if ratings else None,
                     "distribution": {str(r): ratings.count(r) for r in range(1, 6)}},
            "by_agent": by_agent}


def conversation_rows(api: Api, token: str, query: str) -> list[dict[str, str]]:
    response = api.call("GET", f"/v1/reports/conversations.csv?{query}", token=token)
    assert response.status_code == 200, response.body
    assert response.headers["Content-Type"].startswith("text/csv")
    return list(csv.DictReader(io.StringIO(response.body.decode())))


@pytest.mark.parametrize("hours", ["clock", "business"])
def test_the_per_conversation_csv_adds_up_to_the_summary_exactly(day: ReportedDay, hours: str):
    rows = conversation_rows(day.api, day.token, f"from={day.frm}&to={day.until}")
    assert len(rows) == len(day.truth)
    report = day.api.call("GET", f"/v1/reports/summary?from={day.frm}&to={day.until}&hours={hours}",
                          token=day.token).json_body
    added = sums_of(rows, hours)
    assert {name: report[name] for name in added} == added
    assert report["hours"] == hours


def test_the_per_conversation_csv_of_part_of_the_day_adds_up_to_that_part(day: ReportedDay):
    middle = (day.start + timedelta(hours=5)).replace(minute=0, second=0, microsecond=0)
    query = f"from={day.frm}&to={middle.strftime('%Y-%m-%dT%H:%M:%SZ')}"
    rows = conversation_rows(day.api, day.token, query)
    assert 0 < len(rows) < len(day.truth)
    report = day.api.call("GET", f"/v1/reports/summary?{query}", token=day.token).json_body
    added = sums_of(rows)
    assert {name: report[name] for name in added} == added


def test_another_tenant_sees_none_of_it(day: ReportedDay):
    other = signed_up(day.api)
    query = f"from={day.frm}&to={day.until}"
    assert conversation_rows(day.api, other["admin_token"], query) == []
    report = day.api.call("GET", f"/v1/reports/summary?{query}", token=other["admin_token"]).json_body
    assert report["conversations"] == 0 and report["by_agent"] == []


@pytest.mark.parametrize("bad", ["from=2026-02-01T00:00:00Z&to=2026-01-01T00:00:00Z", "hours=open",
                                 "from=2020-01-01T00:00:00Z&to=2026-01-01T00:00:00Z", "from=yesterday"])
def test_a_bad_csv_window_is_400_and_agents_get_403(day: ReportedDay, bad: str):
    assert day.api.call("GET", f"/v1/reports/conversations.csv?{bad}", token=day.token).status_code == 400
    sam = day.api.login(day.tenant_id, "sam@acme.com")
    assert day.api.call("GET", "/v1/reports/conversations.csv", token=sam).status_code == 403
