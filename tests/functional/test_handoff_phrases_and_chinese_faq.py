"""The tenant's handoff phrases (a setting) and Chinese FAQ questions, through the handlers and the
bot's WebSocket path on moto."""
from __future__ import annotations

import pytest

from chalicelib.storage.conversations import ConversationModel
from chalicelib.storage.settings import DEFAULT_HANDOFF_PHRASES
from devstack.harness import Api, visitor
from tests.helpers import error_of

RETURNS_CN = {"question": "退货政策是什么？", "answer": "收货后30天内可以退货，全额退款。",
              "keywords": ["退货", "退款"]}
SHIPPING_CN = {"question": "运费是多少？", "answer": "满99元包邮。", "keywords": ["运费", "快递"]}


def add_faq(api: Api, tenant: dict, *entries: dict) -> None:
    for entry in entries:
        response = api.call("POST", "/v1/faq", entry, token=tenant["admin_token"])
        assert response.status_code == 201, response.body


def settings_of(api: Api, tenant: dict) -> dict:
    return api.call("GET", "/v1/settings", token=tenant["admin_token"]).json_body


def put_phrases(api: Api, tenant: dict, phrases: object):
    return api.call("PUT", "/v1/settings", {"handoff_phrases": phrases}, token=tenant["admin_token"])


def bot_turn_of(api: Api, tenant: dict, text: str) -> tuple[str, list[dict]]:
    """A new visitor's first message: the conversation's status after it, and the bot's answers."""
    vera = visitor(api, tenant)
    vera.send(action="message.send", client_msg_id="v1", text=text)
    frames = vera.new_frames()
    conversation_id = frames[0]["conversation_id"]
    answers = [f for f in frames if f["type"] == "message.new" and f["sender"]["kind"] == "bot"]
    return ConversationModel.get(tenant["tenant_id"], conversation_id).status, answers


# --- The setting -----------------------------------------------------------------------------
def test_the_default_phrases_are_today_s_english_and_chinese_words(api: Api, tenant: dict):
    assert settings_of(api, tenant)["handoff_phrases"] == list(DEFAULT_HANDOFF_PHRASES)
    assert {"human", "agent", "人工", "客服"} <= set(DEFAULT_HANDOFF_PHRASES)


def test_phrases_are_tidied_and_stored_whole(api: Api, tenant: dict):
    response = put_phrases(api, tenant, ["  talk  to a   human ", "真人", "转 人工"])
    assert response.status_code == 200, response.body
    assert response.json_body["handoff_phrases"] == ["talk to a human", "真人", "转 人工"]
    assert settings_of(api, tenant)["handoff_phrases"] == ["talk to a human", "真人", "转 人工"]
    assert put_phrases(api, tenant, []).json_body["handoff_phrases"] == []


@pytest.mark.parametrize("phrases", [
    ["human", "   "], ["human", "?!"], ["Human", "human"], ["x" * 41], [f"phrase {n}" for n in range(51)],
    "human", [""], [3],
])
def test_bad_phrases_are_refused_and_nothing_is_written(api: Api, tenant: dict, phrases: object):
    before = settings_of(api, tenant)
    response = put_phrases(api, tenant, phrases)
    assert response.status_code == 400, response.body
    assert "handoff_phrases" in error_of(response)["message"]
    assert settings_of(api, tenant) == before


# --- The bot ---------------------------------------------------------------------------------
@pytest.mark.parametrize("text", ["我想退货怎么办", "退货政策是什么", "可以退款吗", "请问退货政策"])
def test_a_chinese_question_without_spaces_gets_the_chinese_answer(api: Api, tenant: dict, text: str):
    add_faq(api, tenant, RETURNS_CN, SHIPPING_CN)
    status, answers = bot_turn_of(api, tenant, text)
    assert status == "bot" and [a["text"] for a in answers] == [RETURNS_CN["answer"]]


def test_the_preview_names_the_entry_the_bot_answers_with(api: Api, tenant: dict):
    add_faq(api, tenant, RETURNS_CN, SHIPPING_CN)
    listed = api.call("GET", "/v1/faq", token=tenant["admin_token"]).json_body["items"]
    returns_id = next(e["faq_id"] for e in listed if e["question"] == RETURNS_CN["question"])
    preview = api.call("GET", "/v1/faq/match?q=我想退货怎么办", token=tenant["admin_token"]).json_body
    assert preview["answer_faq_id"] == returns_id and preview["matches"][0]["confidence"] == 1.0
    assert preview["threshold"] == pytest.approx(0.6)
    assert preview["handoff_phrase"] is None
    stranger = api.call("GET", "/v1/faq/match?q=付款失败", token=tenant["admin_token"]).json_body
    assert stranger["answer_faq_id"] is None
    # A handoff phrase wins over a confident entry, in the preview as in the bot.
    asked = api.call("GET", "/v1/faq/match?q=退货政策，转人工", token=tenant["admin_token"]).json_body
    assert asked["handoff_phrase"] == "人工" and asked["answer_faq_id"] is None
    assert asked["matches"][0]["faq_id"] == returns_id


@pytest.mark.parametrize("text, phrases, handed_over", [
    ("退货政策，转人工", None, True),  # the defaults: 人工 anywhere in the Chinese
    ("退货政策 转 人 工", None, True),  # spaces between the characters change nothing
    ("returns policy, agent please", None, True),  # an English default as a word
    ("returns policy of your agents?", None, False),  # "agents" is not the word "agent"
    ("returns policy, a real person please", ["a real person", "真人"], True),
    ("退货政策，找真人", ["a real person", "真人"], True),
    ("returns policy, agent please", ["a real person", "真人"], False),  # the defaults were replaced
    ("退货政策，转人工", [], False),  # no phrases: the bot answers what it can
])
def test_the_bot_hands_over_on_the_tenant_s_phrases(api: Api, tenant: dict, text: str,
                                                     phrases: list[str] | None, handed_over: bool):
    add_faq(api, tenant, RETURNS_CN | {"keywords": ["退货", "退款", "returns", "policy"]})
    if phrases is not None:
        assert put_phrases(api, tenant, phrases).status_code == 200
    status, answers = bot_turn_of(api, tenant, text)
    assert (status, len(answers)) == (("queued", 0) if handed_over else ("bot", 1))
