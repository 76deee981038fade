"""sla-alerts: a conversation waiting past the SLA with no agent online emails each active admin once,
one digest per admin per run, in the admin's language, metadata only. All on moto (SES keeps the mail)."""
from __future__ import annotations

import re
import threading
from email.message import EmailMessage
from zoneinfo import ZoneInfo

import pytest
from pynamodb.connection.base import Connection

from chalicelib.alerts import digest, sla
from chalicelib.mail.suppression import address_hash, suppress
from chalicelib.storage.conversations import ConversationModel
from devstack.harness import Api, agent, run_job, visitor
from tests.functional.test_surveys_and_reports import sent_mail

SECRET = "my card number is 4111 1111 1111 1111"


def waiting(api: Api, tenant: dict, **profile: str) -> str:
    """A visitor's conversation, queued (nobody online takes it), opened with a message we never mail."""
    guest = visitor(api, tenant, **profile)
    guest.send(action="message.send", client_msg_id="v1", text=SECRET)
    return str(guest.of_type("ack")[0]["conversation_id"])


def to(address: str) -> list[EmailMessage]:
    return [mail for mail in sent_mail() if mail["To"] == address]


def plain(mail: EmailMessage) -> str:
    part = mail.get_body(("plain",))
    assert part is not None
    return str(part.get_content())


def rich(mail: EmailMessage) -> str:
    part = mail.get_body(("html",))
    assert part is not None
    return str(part.get_content())


def listed(mail: EmailMessage) -> set[str]:
    return set(re.findall(r"#conversation=(c_\w+)", plain(mail)))


@pytest.fixture
def admins(api: Api, tenant: dict) -> list[str]:
    """Two active admins (the sign-up's and Ada), a deactivated one, and an agent and a supervisor, all
    offline; the tenant's SLA is the default 60 s."""
    api.add_agent(tenant["admin_token"], "ada@acme.com", role="admin")
    gone = api.add_agent(tenant["admin_token"], "gone@acme.com", role="admin")
    assert api.call("DELETE", f"/v1/agents/{gone['agent_id']}", token=tenant["admin_token"]).status_code in (200, 204)
    api.add_agent(tenant["admin_token"], "sam@acme.com")
    api.add_agent(tenant["admin_token"], "sue@acme.com", role="supervisor")
    return ["admin@acme.com", "ada@acme.com"]


def test_a_chat_waiting_past_the_sla_with_nobody_online_emails_each_admin_once(api: Api, tenant: dict, admins, clock):
    conversation_id = waiting(api, tenant, name="Vera Lee")
    assert run_job("sla-alerts")["email"] == 0  # not yet past the 60 s
    clock.advance(61)
    summary = run_job("sla-alerts")
    assert summary["alerted"] == 1 and summary["email"] == 2
    assert sorted(mail["To"] for mail in sent_mail()) == sorted(admins)  # not the deactivated, agent, supervisor
    [mail] = to("ada@acme.com")
    assert mail["Subject"] == "A chat is waiting and no agent is online"
    body = plain(mail)
    assert "Vera Lee" in body and "waiting 1 minute" in body and "target of 1 minute" in body
    assert f"{digest.console_link(conversation_id)}" in body and listed(mail) == {conversation_id}
    assert f'href="{digest.console_link(conversation_id)}"' in rich(mail) and "Vera Lee" in rich(mail)
    for part in (body, rich(mail), mail.as_string()):
        assert "4111" not in part and "card number" not in part  # the transcript stays secret
    assert ConversationModel.get(tenant["tenant_id"], conversation_id).sla_alerted_at is not None
    clock.advance(3600)
    assert run_job("sla-alerts")["due"] == 0  # told once: off the index, never again
    assert len(sent_mail()) == 2


def test_an_agent_online_means_no_email_until_everyone_has_gone(api: Api, tenant: dict, admins, clock):
    kim = agent(api, tenant, "kim@acme.com", max_concurrent=1)
    kim.send(action="presence.set", status="online")
    waiting(api, tenant)  # Kim takes it
    conversation_id = waiting(api, tenant)  # Kim is full: it waits, but an agent is online
    clock.advance(61)
    summary = run_job("sla-alerts")
    assert summary["agents_online"] == 1 and sent_mail() == []
    assert run_job("sla-alerts")["due"] == 0  # looked at again in 5 minutes, not on every run
    kim.send(action="presence.set", status="offline")
    clock.advance(301)
    assert run_job("sla-alerts")["alerted"] == 1
    assert {listed(mail).pop() for mail in sent_mail()} == {conversation_id} and len(sent_mail()) == 2


def test_three_due_at_once_make_one_digest_per_admin_in_the_tenants_time_zone(api: Api, tenant: dict, admins, clock):
    api.call("PUT", "/v1/settings", {"timezone": "Asia/Shanghai", "sla_first_response_seconds": 120},
             token=tenant["admin_token"])
    ids = {waiting(api, tenant, name=name) for name in ("Vera", "Wang Fang")} | {waiting(api, tenant)}
    clock.advance(121)
    assert run_job("sla-alerts")["alerted"] == 3
    for address in admins:
        [mail] = to(address)
        assert mail["Subject"] == "3 chats are waiting and no agent is online"
        assert listed(mail) == ids
        body = plain(mail)
        assert "first-response target of 2 minutes" in body and "Asia/Shanghai time zone" in body
        assert "Vera" in body and "Wang Fang" in body and body.count("Visitor v_") == 1
        assert rich(mail).count("<li>") == 3
    # "since" in Shanghai's time (UTC+8), not UTC's.
    shanghai = {ConversationModel.get(tenant["tenant_id"], c).queued_at.astimezone(ZoneInfo("Asia/Shanghai"))
                .strftime("%H:%M") for c in ids}
    assert all(re.search(rf"since (\d{{4}}-\d\d-\d\d )?{hhmm}", plain(mail)) for hhmm in shanghai)


def test_a_long_queue_lists_the_longest_waiting_and_counts_the_rest(api: Api, tenant: dict, admins, clock,
                                                                    monkeypatch):
    monkeypatch.setattr(digest, "LISTED_MAX", 2)
    oldest = [waiting(api, tenant) for _ in range(2)]
    clock.advance(5)
    waiting(api, tenant)
    clock.advance(61)
    run_job("sla-alerts")
    [mail] = to("ada@acme.com")
    assert mail["Subject"] == "3 chats are waiting and no agent is online"
    assert listed(mail) == set(oldest) and "… and 1 more conversation waiting" in plain(mail)


def test_a_chinese_speaking_admin_gets_the_digest_in_chinese(api: Api, tenant: dict, admins, clock):
    ada = api.login(tenant["tenant_id"], "ada@acme.com")
    assert api.call("PATCH", "/v1/me", {"locale": "zh-CN"}, token=ada).status_code == 200
    waiting(api, tenant)
    waiting(api, tenant)
    clock.advance(61)
    run_job("sla-alerts")
    [chinese] = to("ada@acme.com")
    assert chinese["Subject"] == "有 2 个对话正在等待，目前没有客服在线"
    assert "首次响应目标（1 分钟）" in plain(chinese) and "在控制台中打开" in plain(chinese)
    assert 'lang="zh-CN"' in rich(chinese) and "管理员" in rich(chinese)
    [english] = to("admin@acme.com")
    assert english["Subject"] == "2 chats are waiting and no agent is online"


def test_racing_runs_email_each_admin_once_per_conversation(api: Api, tenant: dict, admins, clock, monkeypatch):
    ids = {waiting(api, tenant) for _ in range(3)}
    clock.advance(61)
    runs = 3
    # Every run has read all three conversations as due before any of them claims one.
    everyone_has_read = threading.Barrier(runs)
    first_claim = threading.local()
    claim = sla._claim

    def claim_after_the_others_read(conversation, now):
        if not getattr(first_claim, "done", False):
            first_claim.done = True
            everyone_has_read.wait(timeout=30)
        return claim(conversation, now)

    monkeypatch.setattr(sla, "_claim", claim_after_the_others_read)
    summaries: list[dict] = []
    threads = [threading.Thread(target=lambda: summaries.append(run_job("sla-alerts"))) for _ in range(runs)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert [s["due"] for s in summaries] == [3] * runs  # all saw all three ...
    assert sum(s["alerted"] for s in summaries) == 3  # ... and each conversation was claimed by one run only
    for address in admins:
        mentions = [conversation for mail in to(address) for conversation in listed(mail)]
        assert sorted(mentions) == sorted(ids)  # each exactly once, whichever run won it


def test_suppressed_addresses_and_a_tenant_that_turned_alerts_off_get_nothing(api: Api, tenant: dict, admins, clock):
    suppress(address_hash("ada@acme.com"), "*", "bounce")
    waiting(api, tenant)
    clock.advance(61)
    summary = run_job("sla-alerts")
    assert summary["suppressed"] == 1 and [mail["To"] for mail in sent_mail()] == ["admin@acme.com"]
    turned_off = api.call("PUT", "/v1/settings", {"sla_alerts_enabled": False}, token=tenant["admin_token"])
    assert turned_off.status_code == 200
    waiting(api, tenant)
    clock.advance(61)
    assert run_job("sla-alerts")["unwatched"] == 1
    assert len(sent_mail()) == 1


def test_a_run_costs_eight_queries_when_nothing_is_due_and_a_fixed_few_per_tenant_and_admin(
        api: Api, tenant: dict, admins, clock, monkeypatch):
    for _ in range(3):
        waiting(api, tenant)
    calls: list[tuple[str, str]] = []
    dispatch = Connection.dispatch

    def recording(self, operation_name, operation_kwargs):
        calls.append((operation_name, operation_kwargs.get("IndexName") or operation_kwargs.get("TableName", "")))
        return dispatch(self, operation_name, operation_kwargs)

    monkeypatch.setattr(Connection, "dispatch", recording)
    clock.advance(61)
    assert run_job("sla-alerts")["email"] == 2
    ran = [name for name, _ in calls]
    # 8 due-index queries, 1 batch of conversations, the tenant, its staff, 3 claims, 1 batch of
    # visitors, and per admin the suppression list (1 batch) and the daily caps (1 transaction).
    assert calls[:8] == [("Query", "due-index")] * 8
    assert sorted(ran[8:]) == sorted(["BatchGetItem", "GetItem", "Query", *["UpdateItem"] * 3, "BatchGetItem",
                                      *["BatchGetItem", "TransactWriteItems"] * 2])
    assert "Scan" not in ran
    calls.clear()
    run_job("sla-alerts")
    assert calls == [("Query", "due-index")] * 8  # idle: nothing else, however many tenants


def test_a_queued_conversation_is_watched_in_the_write_that_queues_it(api: Api, tenant: dict):
    conversation_id = waiting(api, tenant)
    stored = ConversationModel.get(tenant["tenant_id"], conversation_id)
    assert stored.due_shard and stored.due_shard.startswith("sla#") and stored.due_at == stored.queued_at
    kim = agent(api, tenant, "kim@acme.com")
    kim.send(action="presence.set", status="online")  # takes it: due for its reply instead
    assert ConversationModel.get(tenant["tenant_id"], conversation_id).due_shard.startswith("reply#")
