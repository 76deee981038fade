"""Surveys (WebSocket and email paths), answers and follow-ups, end to end on moto (reports:
test_reports.py)."""
from __future__ import annotations

import json
from email import message_from_string
from email.message import EmailMessage
from email.policy import default

import boto3
import pytest

import app as app_module
from chalicelib.storage.conversations import ConversationModel
from chalicelib.storage.surveys import SurveyModel
from devstack.harness import Api, Party, agent, run_job, visitor, ws_event
from tests.helpers import all_items, audit_events

SENDER = "surveys@mail.switchboard.example"
OUTCOMES = ("websocket", "email", "none", "suppressed", "capped_tenant", "capped_address", "skipped", "failed")


def summary(**counts: int) -> dict[str, int | bool]:
    """send-surveys' summary of a run that finished its pass: these counts, every other outcome 0."""
    return {**{outcome: counts.get(outcome, 0) for outcome in OUTCOMES}, "pass_finished": True}


def raw_mail() -> list[str]:
    """What SES (moto) sent, as sent."""
    from moto.ses.models import ses_backends

    return [sent.raw_data for sent in ses_backends["123456789012"]["us-east-1"].sent_messages]


def sent_mail() -> list[EmailMessage]:
    """What SES (moto) sent, as the messages a mail client would read."""
    return [message_from_string(raw, policy=default) for raw in raw_mail()]


def text_of(mail: EmailMessage) -> str:
    return mail.get_content()


def closed_chat(api: Api, tenant: dict, resolution: str = "resolved", agent_email: str = "sam@acme.com",
                **profile) -> tuple[Party, Party, str]:
    sam = agent(api, tenant, agent_email)
    sam.send(action="presence.set", status="online")
    vera = visitor(api, tenant, **profile)
    vera.send(action="message.send", client_msg_id="v1", text="hello")
    conversation_id = vera.of_type("ack")[0]["conversation_id"]
    sam.send(action="message.send", conversation_id=conversation_id, client_msg_id="s1", text="hi!")
    sam.send(action="conversation.close", conversation_id=conversation_id, resolution=resolution)
    return vera, sam, conversation_id


def answer(api: Api, token: str, **body) -> object:
    return api.call("POST", f"/v1/surveys/{token}", body)


# --- send-surveys ---------------------------------------------------------------------------------
def test_a_connected_visitor_gets_the_survey_frame_once_after_the_delay(api: Api, tenant: dict, clock):
    vera, sam, conversation_id = closed_chat(api, tenant)
    vera.new_frames()
    assert run_job("send-surveys")["websocket"] == 0  # survey_delay_seconds (300) has not passed
    clock.advance(301)
    assert run_job("send-surveys") == summary(websocket=1)
    [frame] = vera.of_type("survey.request")
    assert frame["conversation_id"] == conversation_id and frame["survey_url"].endswith(frame["survey_token"])
    assert run_job("send-surveys") == summary()  # never twice
    assert vera.of_type("survey.request") == []
    survey = SurveyModel.get(tenant["tenant_id"], conversation_id)
    assert survey.channel == "websocket" and survey.agent_id == ConversationModel.get(
        tenant["tenant_id"], conversation_id).agent_id

    ok = answer(api, frame["survey_token"], rating=5, comment="Great help")
    assert ok.status_code == 200 and ok.json_body["rating"] == 5
    again = answer(api, frame["survey_token"], rating=1)
    assert again.status_code == 409 and again.json_body["error"]["code"] == "already_answered"
    assert SurveyModel.get(tenant["tenant_id"], conversation_id).rating == 5

    # The comment is the visitor's own words: stored sealed, readable by staff, shredded by erasure.
    assert "Great help" not in json.dumps(all_items(), default=repr)
    path = f"/v1/conversations/{conversation_id}/survey"
    shown = api.call("GET", path, token=tenant["admin_token"]).json_body
    assert (shown["rating"], shown["comment"], shown["channel"]) == (5, "Great help", "websocket")
    assert audit_events(tenant["tenant_id"], "survey.read")
    visitor_id = ConversationModel.get(tenant["tenant_id"], conversation_id).visitor_id
    api.call("DELETE", f"/v1/visitors/{visitor_id}", token=tenant["admin_token"])
    erased = api.call("GET", path, token=tenant["admin_token"]).json_body
    assert (erased["rating"], erased["comment"], erased["comment_redacted"]) == (5, None, True)


def test_a_gone_visitor_with_an_email_gets_it_by_email(api: Api, tenant: dict, clock):
    vera, _, conversation_id = closed_chat(api, tenant, name="Vera", email="vera@example.org")
    app_module.websocket_disconnect(ws_event("$disconnect", vera.connection_id), None)
    before = len(sent_mail())
    clock.advance(301)
    assert run_job("send-surveys")["email"] == 1
    [mail] = sent_mail()[before:]
    assert (mail["From"], mail["To"], mail["Subject"]) == (SENDER, "vera@example.org", "How did we do?")
    url = next(word for word in text_of(mail).split() if "/survey/" in word)
    # One-click unsubscribe (RFC 8058): the header pair, and the same link in the text.
    unsubscribe = mail["List-Unsubscribe"].strip("<>")
    assert unsubscribe.startswith("https://") and "/v1/unsubscribe/" in unsubscribe
    assert f"\nList-Unsubscribe: <{unsubscribe}>\r\n" in raw_mail()[-1]  # one unbroken line, never encoded
    assert mail["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click" and unsubscribe in text_of(mail)
    token = url.rsplit("/", 1)[1]
    page = api.client.http.get(f"/survey/{token}")
    assert page.status_code == 200 and "How would you rate this conversation?" in page.body.decode()
    assert "script-src 'self'" in page.headers["Content-Security-Policy"]
    assert answer(api, token, rating=4).status_code == 200
    assert "already answered" in api.client.http.get(f"/survey/{token}").body.decode()
    assert run_job("send-surveys")["email"] == 0 and len(sent_mail()) == before + 1


def test_no_connection_and_no_email_sends_nothing_but_is_done(api: Api, tenant: dict, clock):
    vera, _, conversation_id = closed_chat(api, tenant)
    app_module.websocket_disconnect(ws_event("$disconnect", vera.connection_id), None)
    clock.advance(301)
    assert run_job("send-surveys")["none"] == 1
    assert ConversationModel.get(tenant["tenant_id"], conversation_id).survey_due_at is None


def test_surveys_expire_after_seven_days_and_bad_tokens_are_404(api: Api, tenant: dict, clock):
    vera, _, _ = closed_chat(api, tenant)
    clock.advance(301)
    run_job("send-surveys")
    token = vera.of_type("survey.request")[0]["survey_token"]
    clock.advance(7 * 86400 + 1)
    expired = answer(api, token, rating=3)
    assert expired.status_code == 410 and expired.json_body["error"]["code"] == "survey_expired"
    assert api.client.http.get(f"/survey/{token}").status_code == 410
    assert answer(api, token[:-4] + "abcd", rating=3).status_code == 404
    assert answer(api, "not-a-token", rating=3).status_code == 404
    visitor_token = api.call("POST", f"/v1/widget/{tenant['widget_key']}/sessions", {}).json_body["visitor_token"]
    assert answer(api, visitor_token, rating=3).status_code == 404  # another kind of token is no survey


@pytest.mark.parametrize("body, field", [({"rating": 0}, "rating"), ({"rating": 6}, "rating"),
                                         ({"rating": "5"}, "rating"), ({"rating": 3, "comment": "x" * 1001}, "comment"),
                                         ({}, "rating")])
def test_bad_answers_are_400_and_change_nothing(api: Api, tenant: dict, clock, body: dict, field: str):
    vera, _, conversation_id = closed_chat(api, tenant)
    clock.advance(301)
    run_job("send-surveys")
    token = vera.of_type("survey.request")[0]["survey_token"]
    response = answer(api, token, **body)
    assert response.status_code == 400 and response.json_body["error"]["message"].startswith(field)
    assert SurveyModel.get(tenant["tenant_id"], conversation_id).rating is None


def test_surveys_off_means_none_are_sent(api: Api, tenant: dict, clock):
    api.call("PUT", "/v1/settings", {"survey_enabled": False}, token=tenant["admin_token"])
    vera, _, _ = closed_chat(api, tenant)
    clock.advance(301)
    assert run_job("send-surveys") == summary()


# --- Follow-ups ---------------------------------------------------------------------------------
def test_unresolved_closes_and_low_ratings_open_follow_ups_supervisors_close(api: Api, tenant: dict, clock):
    _, sam, unresolved = closed_chat(api, tenant, resolution="unresolved")
    sam.send(action="presence.set", status="away")  # the next chat goes to kim
    vera, _, rated = closed_chat(api, tenant, agent_email="kim@acme.com")
    clock.advance(301)
    run_job("send-surveys")
    answer(api, vera.of_type("survey.request")[0]["survey_token"], rating=2, comment="slow")
    admin = api.login(tenant["tenant_id"], "admin@acme.com")
    listed = api.call("GET", "/v1/follow-ups?status=open", token=admin).json_body["items"]
    assert sorted((f["conversation_id"], f["reason"]) for f in listed) == sorted(
        [(unresolved, "unresolved"), (rated, "low_rating")])
    assert next(f for f in listed if f["reason"] == "low_rating")["rating"] == 2
    sam_token = api.login(tenant["tenant_id"], "sam@acme.com")
    assert api.call("GET", "/v1/follow-ups", token=sam_token).status_code == 403
    follow_up_id = listed[0]["follow_up_id"]
    closed = api.call("POST", f"/v1/follow-ups/{follow_up_id}/close", {"note": "called the customer"}, token=admin)
    assert closed.status_code == 200 and closed.json_body["status"] == "closed"
    again = api.call("POST", f"/v1/follow-ups/{follow_up_id}/close", {}, token=admin)
    assert again.status_code == 409
    assert len(api.call("GET", "/v1/follow-ups?status=open", token=admin).json_body["items"]) == 1
    assert api.call("POST", "/v1/follow-ups/nothing.unresolved/close", {}, token=admin).status_code == 404


def test_one_failing_email_does_not_stop_the_other_surveys(api: Api, tenant: dict, clock):
    gone, sam, _ = closed_chat(api, tenant, email="vera@example.org")
    sam.send(action="presence.set", status="away")  # the next chat goes to kim
    app_module.websocket_disconnect(ws_event("$disconnect", gone.connection_id), None)
    here, _, _ = closed_chat(api, tenant, agent_email="kim@acme.com")
    boto3.client("sesv2").delete_email_identity(EmailIdentity="mail.switchboard.example")  # SES now refuses
    clock.advance(301)
    assert run_job("send-surveys") == summary(websocket=1, failed=1)
    assert here.of_type("survey.request")
