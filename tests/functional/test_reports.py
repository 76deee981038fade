"""Reports: GET /v1/reports/summary (and its CSV) against a brute-force count of the same conversations,
through the Chalice handlers on moto."""
from __future__ import annotations

import csv
import io
import math
import random
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from chalicelib.reports import histogram
from chalicelib.storage.conversations import ConversationModel
from devstack.harness import Api, MovableClock, Party, agent, run_job, visitor
from tests.functional.test_surveys_and_reports import answer
from tests.helpers import module_tenant


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
                      "handle": handle + wait, "resolution": resolution, "rating": rating})
        clock.advance(rng.choice([600, 3600, 7200]))
    # One the bot settles: counted as a conversation, never answered.
    api.call("POST", "/v1/faq", {"question": "What are your opening hours?", "answer": "9 to 5."},
             token=api.login(t, "admin@acme.com"))
    bot_visitor = visitor(api, tenant)
    bot_visitor.send(action="message.send", client_msg_id="v1", text="what are your opening hours?")
    bot_conversation = bot_visitor.of_type("ack")[0]["conversation_id"]
    bot_visitor.send(action="conversation.close", conversation_id=bot_conversation)
    truth.append({"created": ConversationModel.get(t, bot_conversation).created_at, "agent": None, "wait": None,
                  "handle": None, "resolution": None, "rating": None, "bot": True})

    token = api.login(t, "admin@acme.com")
    frm = start.replace(minute=0, second=0, microsecond=0).strftime("%Y-%m-%dT%H:%M:%SZ")
    until = (clock.utcnow() + timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
    response = api.call("GET", f"/v1/reports/summary?from={frm}&to={until}", token=token)
    assert response.status_code == 200, response.body
    return ReportedDay(api, t, truth, agents, start, frm, until, token, response.json_body)


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
        ratings = [c["rating"] for c in mine if c["rating"]]
        assert row["conversations"] == len(mine)
        assert row["csat_average"] == (round(sum(ratings) / len(ratings), 2) if ratings else None)
        assert row["first_response_p50"] == expected_percentile([c["wait"] for c in mine], 0.5)
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


@pytest.mark.parametrize("bad", ["from=2026-02-01T00:00:00Z&to=2026-01-01T00:00:00Z",
                                 "from=2020-01-01T00:00:00Z&to=2026-01-01T00:00:00Z", "from=yesterday"])
def test_a_bad_report_window_is_400(day: ReportedDay, bad: str):
    assert day.api.call("GET", f"/v1/reports/summary?{bad}", token=day.token).status_code == 400
