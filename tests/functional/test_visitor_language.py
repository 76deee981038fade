"""Every text the server gives a visitor (system messages, the survey, its email and the pages an email
links to) speaks the visitor's language: the page's, else the browser's, else the tenant's default. And
visitor tags are text in any script: one form however they were typed. All on moto."""
from __future__ import annotations

import html
import re

import pytest

import app as app_module
from chalicelib.access.tokens import signer
from chalicelib.i18n import text
from chalicelib.mail.texts import business, display_name
from chalicelib.storage.tenants import TenantModel
from chalicelib.surveys.page import SCRIPT
from devstack.harness import Api, Party, agent, run_job, ws_event
from tests.functional.test_survey_emails import shop, surveyed_by_email, to, unsubscribe_path
from tests.functional.test_surveys_and_reports import raw_mail, text_of
from tests.unit.test_i18n_catalogs import hard_coded

CLOSED_ALL_WEEK = {day: [] for day in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")}
CHINESE = re.compile(r"[\u4e00-\u9fff]")


def session(api: Api, tenant: dict, accept_language: str | None = None, **body: str) -> dict:
    headers = {"Accept-Language": accept_language} if accept_language else None
    response = api.call("POST", f"/v1/widget/{tenant['widget_key']}/sessions", body, headers=headers)
    assert response.status_code == 201, response.body
    return response.json_body


def stored_locale(api: Api, tenant: dict, started: dict) -> str:
    return api.call("GET", f"/v1/visitors/{started['visitor_id']}", token=tenant["admin_token"]).json_body["locale"]


def settings(api: Api, tenant: dict, **changes: object) -> dict:
    response = api.call("PUT", "/v1/settings", changes, token=tenant["admin_token"])
    assert response.status_code == 200, response.body
    return response.json_body


def page(api: Api, path: str, accept_language: str | None = None, post: bool = False) -> tuple[int, str, str]:
    """(status, <html lang>, the text of the page unescaped)."""
    headers = {"Accept-Language": accept_language} if accept_language else {}
    if post:
        headers["Content-Type"] = "application/x-www-form-urlencoded"
        response = api.client.http.post(path, headers=headers, body="List-Unsubscribe=One-Click")
    else:
        response = api.client.http.get(path, headers=headers)
    body = response.body.decode()
    lang = re.search(r'<html lang="([^"]+)"', body)
    assert lang and response.headers["Content-Language"] == lang.group(1)
    return response.status_code, lang.group(1), html.unescape(body)


def survey_path_in(body: str) -> str:
    return "/survey/" + next(word for word in body.split() if "/survey/" in word).rsplit("/", 1)[1]


# --- Which language -----------------------------------------------------------------------------
@pytest.mark.parametrize("body_locale, accept_language, default_locale, chosen", [
    ("zh-CN", "en-US,en;q=0.9", "en", "zh-CN"),  # the page's data-locale beats the browser
    ("en-GB", "zh-CN", "zh-CN", "en"),
    (None, "fr-FR, zh-Hans;q=0.8, en;q=0.5", "en", "zh-CN"),  # the browser's first language we speak
    (None, "en;q=0.2, zh;q=0.9", "en", "zh-CN"),  # by quality, not order
    (None, None, "zh-CN", "zh-CN"),  # nothing named: the tenant's default
    ("fr", "de-DE, ja", "zh-CN", "zh-CN"),  # none we speak: the tenant's default
    ("zh-TW", None, "en", "en"),  # Traditional Chinese is not our Simplified
    (None, "*", "en", "en"),
])
def test_the_visitors_language_is_the_pages_then_the_browsers_then_the_tenants(
        api: Api, tenant: dict, body_locale: str | None, accept_language: str | None, default_locale: str,
        chosen: str):
    settings(api, tenant, default_locale=default_locale)
    started = session(api, tenant, accept_language, **({"locale": body_locale} if body_locale else {}))
    assert stored_locale(api, tenant, started) == chosen


def test_a_returning_visitor_speaks_the_language_of_their_latest_session(api: Api, tenant: dict):
    first = session(api, tenant, "zh-CN")
    assert stored_locale(api, tenant, first) == "zh-CN"
    again = session(api, tenant, "zh-CN", locale="en", visitor_token=first["visitor_token"])
    assert again["visitor_id"] == first["visitor_id"] and stored_locale(api, tenant, again) == "en"


@pytest.mark.parametrize("locale", ["x", "zh CN", "<script>", "e" * 36])
def test_a_malformed_locale_is_still_refused(api: Api, tenant: dict, locale: str):
    response = api.call("POST", f"/v1/widget/{tenant['widget_key']}/sessions", {"locale": locale})
    assert response.status_code == 400 and "locale" in response.json_body["error"]["message"]


# --- The offline message --------------------------------------------------------------------------
def offline_reply(api: Api, tenant: dict, **body: str) -> str:
    chat = Party(session(api, tenant, **body)["visitor_token"])
    chat.send(action="message.send", client_msg_id="v1", text="有人吗？")
    [message] = [frame for frame in chat.of_type("message.new") if frame["sender"]["kind"] == "system"]
    return message["text"]


def test_the_offline_message_is_ours_in_the_visitors_language_unless_the_tenant_wrote_its_own(api: Api,
                                                                                              tenant: dict):
    shown = settings(api, tenant, business_hours=CLOSED_ALL_WEEK)
    assert shown["offline_message"] is None and shown["survey_question"] is None  # null: ours, in their language
    assert offline_reply(api, tenant, locale="zh-CN") == "我们现在不在线。请留言，我们回来后会尽快回复您。"
    assert offline_reply(api, tenant, locale="en-US") == (
        "We're away right now. Leave a message and we'll reply as soon as we're back.")

    assert settings(api, tenant, offline_message="周一至周五 9:00 营业")["offline_message"] == "周一至周五 9:00 营业"
    assert offline_reply(api, tenant, locale="en") == "周一至周五 9:00 营业"  # the tenant's own, as written
    assert offline_reply(api, tenant, locale="zh-CN") == "周一至周五 9:00 营业"
    assert settings(api, tenant, offline_message=None)["offline_message"] is None  # back to ours
    assert offline_reply(api, tenant, locale="zh-CN") == text("zh-CN", "system.offline_message")


def test_settings_saved_with_the_former_english_defaults_read_as_ours(api: Api, tenant: dict):
    """Settings are stored whole, so every tenant from before stored our English texts as its own."""
    record = TenantModel.get(tenant["tenant_id"])
    record.update(actions=[TenantModel.settings.set({
        **record.settings, "business_hours": CLOSED_ALL_WEEK,
        "offline_message": "We're away right now. Leave a message and we'll reply as soon as we're back.",
        "survey_question": "How would you rate this conversation?"})])
    shown = api.call("GET", "/v1/settings", token=tenant["admin_token"]).json_body
    assert shown["offline_message"] is None and shown["survey_question"] is None
    assert offline_reply(api, tenant, locale="zh-CN") == text("zh-CN", "system.offline_message")


# --- The survey -----------------------------------------------------------------------------------
def test_the_survey_frame_asks_in_the_visitors_language_or_the_tenants_own_words(api: Api, tenant: dict):
    settings(api, tenant, survey_delay_seconds=0)
    sam = agent(api, tenant, "sam@acme.com")
    sam.send(action="presence.set", status="online")

    def asked(**body: str) -> str:
        chat = Party(session(api, tenant, **body)["visitor_token"])
        chat.send(action="message.send", client_msg_id="v1", text="你好")
        conversation_id = chat.of_type("ack")[0]["conversation_id"]
        sam.send(action="conversation.close", conversation_id=conversation_id, resolution="resolved")
        run_job("send-surveys")
        return chat.of_type("survey.request")[0]["question"]

    assert asked(locale="zh-CN") == "您对这次对话的体验如何评价？"
    assert asked(locale="en") == "How would you rate this conversation?"
    settings(api, tenant, survey_question="这次服务您满意吗？")
    assert asked(locale="en") == "这次服务您满意吗？"


def test_a_chinese_visitor_gets_the_survey_email_its_page_and_its_unsubscribe_pages_in_chinese(api: Api):
    shop_zh, sam = shop(api, "北京小店", "admin@beijing.example")
    assert surveyed_by_email(api, shop_zh, sam, ["li@example.org"], locale="zh-CN") == {
        **{outcome: 0 for outcome in ("websocket", "none", "suppressed", "capped_tenant", "capped_address",
                                      "skipped", "failed")}, "email": 1, "pass_finished": True}
    [mail] = to("li@example.org")
    assert raw_mail()[-1].isascii()  # 7-bit for SES: the subject RFC 2047-encoded, the body quoted-printable
    assert mail["Subject"] == "我们的服务怎么样？"
    body = text_of(mail)
    assert body.startswith("您好：") and "感谢您最近与“北京小店”的对话" in body and "链接 7 天内有效" in body
    words = [word for word in body.split() if not word.startswith("https://")]
    assert "如果不想再收到“北京小店”的邮件，请打开：" in body and not re.search(r"[A-Za-z]{3,}", " ".join(words))

    survey_path = survey_path_in(body)
    status, lang, shown = page(api, survey_path, "en-US")  # the email's language, not this browser's
    assert (status, lang) == (200, "zh-CN")
    for words in ("<title>我们的服务怎么样？</title>", "您对这次对话的体验如何评价？", "1 分最差，5 分最好。", "提交",
                  'data-choose="请选择一个评分。"', 'data-thanks="感谢您的评价。"'):
        assert words in shown, words
    assert not re.search(r">[^<]*[A-Za-z]{3,}[^<]*<", shown.split("<body>")[1])  # no English text
    assert api.call("POST", f"/v1{survey_path.replace('/survey/', '/surveys/')}", {"rating": 5}).status_code == 200
    status, lang, shown = page(api, survey_path)
    assert (status, lang) == (200, "zh-CN") and "此调查已经作答过了。" in shown

    path = unsubscribe_path(mail)
    status, lang, shown = page(api, path, "en")
    assert (status, lang) == (200, "zh-CN") and "<title>退订邮件</title>" in shown
    assert "不再接收“北京小店”发往这个地址的邮件？" in shown and ">退订</button>" in shown
    status, lang, shown = page(api, path, post=True)
    assert (status, lang) == (200, "zh-CN") and "这个地址将不会再收到“北京小店”的邮件。" in shown


def test_an_english_visitor_gets_them_in_english(api: Api):
    acme, sam = shop(api, "Acme", "admin@acme.com")
    settings(api, acme, default_locale="zh-CN")  # the visitor named English: the tenant's default is not used
    surveyed_by_email(api, acme, sam, ["vera@example.org"], locale="en-GB")
    [mail] = to("vera@example.org")
    assert mail["Subject"] == "How did we do?" and not CHINESE.search(text_of(mail))
    assert 'Thank you for your recent chat with "Acme".' in text_of(mail)
    survey_path = survey_path_in(text_of(mail))
    status, lang, shown = page(api, survey_path, "zh-CN")
    assert (status, lang) == (200, "en") and "How would you rate this conversation?" in shown
    assert not CHINESE.search(shown)
    status, lang, shown = page(api, unsubscribe_path(mail), "zh-CN")
    assert (status, lang) == (200, "en") and 'Stop emails from "Acme" to this address?' in shown


def test_pages_without_a_recorded_language_speak_the_browsers(api: Api):
    """A bad link records nothing; nor do links sent before the language was recorded."""
    for path in ("/v1/unsubscribe/not-a-token", "/survey/not-a-token"):
        status, lang, shown = page(api, path, "zh-CN,zh;q=0.9,en;q=0.8")
        assert (status, lang) == (404, "zh-CN") and ("链接无效" in shown or "找不到此调查" in shown)
        assert page(api, path, "de-DE")[1] == "en" and page(api, path)[1] == "en"
    acme, sam = shop(api, "Acme", "admin@acme.com")
    surveyed_by_email(api, acme, sam, ["vera@example.org"])
    token = unsubscribe_path(to("vera@example.org")[0]).rsplit("/", 1)[1]
    claims = signer().verify(token, ("unsubscribe",))
    older = signer().issue("unsubscribe", claims["tid"], claims["sub"], 3600).token  # no `lng`
    status, lang, shown = page(api, f"/v1/unsubscribe/{older}", "zh-CN")
    assert (status, lang) == (200, "zh-CN") and "不再接收“Acme”发往这个地址的邮件？" in shown


def test_a_tenant_name_in_chinese_keeps_its_letters_and_loses_its_link(api: Api):
    assert display_name("上海·咖啡馆 www.evil.example") == "上海 咖啡馆 www evil example"
    assert display_name("客服热线４００８８８８８８８") == "客服热线"  # full-width digits too: no phone number
    assert business("北京小店", "zh-CN") == "“北京小店”" and business("北京小店", "en") == '"北京小店"'
    assert business("12345678", "zh-CN") == "一家使用 Switchboard 的商家"


def test_the_survey_script_holds_no_text_and_the_console_page_starts_in_the_browsers_language(api: Api):
    assert not hard_coded(SCRIPT)
    assert 'lang="zh-CN"' in api.client.http.get("/app", headers={"Accept-Language": "zh-CN"}).body.decode()
    english = api.client.http.get("/app", headers={"Accept-Language": "en-US"}).body.decode()
    assert 'lang="en"' in english and "<title>Switchboard console</title>" in english


# --- Chinese as text: visitor tags and notes --------------------------------------------------------
def test_tags_are_one_form_however_typed_and_chinese_is_never_split(api: Api, tenant: dict):
    started = session(api, tenant)
    response = api.call("PATCH", f"/v1/visitors/{started['visitor_id']}", {
        "tags": ["老客户", "ＶＩＰ", "vip", "VIP", "北京\u3000客户", "北京 客户", "退货－退款", "退货-退款",
                 "  Café  "],
        "notes": "客户说：周一前发货，谢谢！"}, token=tenant["admin_token"])
    assert response.status_code == 200, response.body
    assert response.json_body["tags"] == ["老客户", "vip", "北京 客户", "退货-退款", "café"]
    # Prose keeps its Chinese punctuation (NFKC would make it ASCII).
    assert response.json_body["notes"] == "客户说：周一前发货，谢谢！"
    refused = api.call("PATCH", f"/v1/visitors/{started['visitor_id']}", {"tags": ["\u3000"]},
                       token=tenant["admin_token"])
    assert refused.status_code == 400 and "tags.0" in refused.json_body["error"]["message"]


def test_a_visitor_who_left_gets_no_frame_but_the_email(api: Api):
    """send-surveys reads the visitor once for both paths: a disconnected one still gets the email."""
    acme, sam = shop(api, "Acme", "admin@acme.com")
    chat = Party(session(api, acme, "zh-CN", email="wang@example.org")["visitor_token"])
    chat.send(action="message.send", client_msg_id="v1", text="你好")
    conversation_id = chat.of_type("ack")[0]["conversation_id"]
    sam.send(action="conversation.close", conversation_id=conversation_id, resolution="resolved")
    app_module.websocket_disconnect(ws_event("$disconnect", chat.connection_id), None)
    assert run_job("send-surveys")["email"] == 1
    assert to("wang@example.org")[0]["Subject"] == "我们的服务怎么样？"
