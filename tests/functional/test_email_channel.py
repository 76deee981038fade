"""The email channel on moto: mail in through the inbound bucket and its queue, threaded into
conversations routed like chats; agents' answers out through the replies queue as threaded emails."""
from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor
from email import message_from_bytes
from email.policy import default
from typing import Any

import boto3
import pytest

import app as app_module
from chalicelib.email_channel import inbound
from chalicelib.email_channel.addresses import inbound_address, reply_address
from chalicelib.storage.conversations import ConversationModel, MessageModel
from devstack.harness import Api, Party, agent, visitor
from devstack.queues import Consumer, chalice_consumers, deliver_once
from tests.email_mail import email
from tests.helpers import all_items, counted_requests

BUCKET = "switchboard-test-inbound-mail-123456789012"


def consumer(name: str) -> Consumer:
    return next(c for c in chalice_consumers(app_module.app, app_module) if c.name == name)


def receive(raw: bytes) -> None:
    """As SES's receipt rule and the bucket's notification deliver it: stored in the inbound bucket,
    then the inbound queue handed to its function."""
    boto3.client("s3", region_name="us-east-1").put_object(Bucket=BUCKET, Key=f"in/{len(raw)}-{id(raw)}", Body=raw)
    assert deliver_once(consumer("inbound_email"), boto3.client("sqs", region_name="us-east-1")) >= 1


def send_replies() -> int:
    return deliver_once(consumer("send_email_replies"), boto3.client("sqs", region_name="us-east-1"))


def sent() -> list[Any]:
    from moto.ses.models import ses_backends

    return [message_from_bytes(m.raw_data.encode(), policy=default)
            for m in ses_backends["123456789012"]["us-east-1"].sent_messages if hasattr(m, "raw_data")]


def email_conversations(tenant_id: str) -> list[ConversationModel]:
    return [c for c in ConversationModel.query(tenant_id) if c.channel == "email"]


def texts(conversation: ConversationModel) -> list[str]:
    from chalicelib.conversations.message_store import visible
    from chalicelib.transcripts.cipher import reveal

    key = f"{conversation.tenant_id}#{conversation.conversation_id}"
    return [reveal(conversation, m).text or "" for m in visible(MessageModel.query(key))]


@pytest.fixture
def sam(api: Api, tenant: dict) -> Party:
    sam = agent(api, tenant, "sam@acme.com")
    sam.send(action="presence.set", status="online")
    sam.new_frames()
    return sam


def test_an_email_opens_an_email_conversation_routed_to_an_agent_live(api: Api, tenant: dict, sam: Party):
    receive(email(inbound_address(tenant["tenant_id"]), "Where is my parcel?\n\nOn Mon, Dec 7, 2026 at 10:00 "
                  "Shop <a@b.c> wrote:\n> old text"))
    [conversation] = email_conversations(tenant["tenant_id"])
    assert conversation.reply_by_email and conversation.status == "assigned"
    [message] = [f for f in sam.new_frames() if f["type"] == "message.new"]
    assert message["text"] == "Where is my parcel?" and message["channel"] == "email"
    assert not list(boto3.client("s3").list_objects_v2(Bucket=BUCKET).get("Contents", []))  # read, then deleted
    assert "parcel" not in json.dumps(all_items(), default=repr)  # sealed like every message


def answer(sam: Party, conversation_id: str, text: str, client_msg_id: str = "s1") -> None:
    sam.send(action="message.send", conversation_id=conversation_id, client_msg_id=client_msg_id, text=text)
    assert send_replies() == 1


def test_the_agents_answer_is_a_threaded_reply_and_the_visitors_reply_continues_it(api: Api, tenant: dict,
                                                                                      sam: Party):
    first = email(inbound_address(tenant["tenant_id"]), subject="Re: RE: My parcel", message_id="<first@example.org>")
    receive(first)
    [conversation] = email_conversations(tenant["tenant_id"])
    sam.new_frames()
    answer(sam, conversation.conversation_id, "It ships <b>today</b> & tomorrow.")
    [mail] = sent()
    assert mail["To"] == "vera@example.org" and mail["Subject"] == "Re: My parcel"
    assert mail["In-Reply-To"] == "<first@example.org>" and mail["References"] == "<first@example.org>"
    assert mail["Message-ID"].endswith("@mail.switchboard.example>") and "Auto-Submitted" not in mail
    assert mail["Reply-To"] == reply_address(tenant["tenant_id"], conversation.conversation_id)
    assert "Sam via Acme" in mail["From"] and mail["X-Switchboard-Conversation"] == conversation.conversation_id
    assert "It ships <b>today</b> & tomorrow." in mail.get_body(("plain",)).get_content()
    html = mail.get_body(("html",)).get_content()
    assert "&lt;b&gt;today&lt;/b&gt; &amp; tomorrow" in html and "<b>" not in html

    # The visitor's client answers to the Message-ID: the same conversation, live to the agent.
    receive(email(inbound_address(tenant["tenant_id"]), "Thanks!", subject="Re: My parcel",
                  In_Reply_To=mail["Message-ID"], References=f"<first@example.org> {mail['Message-ID']}"))
    assert [c.conversation_id for c in email_conversations(tenant["tenant_id"])] == [conversation.conversation_id]
    assert [f["text"] for f in sam.new_frames() if f["type"] == "message.new"] == ["Thanks!"]
    # Our next reply carries the chain.
    answer(sam, conversation.conversation_id, "You're welcome.", "s2")
    assert sent()[-1]["References"].split() == ["<first@example.org>", mail["Message-ID"],
                                                sent()[-1]["In-Reply-To"]]


def test_a_long_exchange_is_answered_past_the_address_cap_under_a_cap_of_its_own(api: Api, tenant: dict,
                                                                                   sam: Party):
    from chalicelib.mail import caps, suppression
    from tests.helpers import use_limits

    # The per-address cap keeps strangers from setting off mail (surveys); answers have their own.
    use_limits(emails_per_address_per_day=1, email_replies_per_address_per_day=3)
    receive(email(inbound_address(tenant["tenant_id"])))
    [conversation] = email_conversations(tenant["tenant_id"])
    for n in range(4):
        answer(sam, conversation.conversation_id, f"Answer {n}", f"s{n}")
    assert [m.get_body(("plain",)).get_content().splitlines()[0] for m in sent()] == ["Answer 0", "Answer 1",
                                                                                     "Answer 2"]
    # The answers took nothing of the address's own cap: its one survey email of the day still goes.
    digest = suppression.address_hash("vera@example.org")
    assert caps.take_slot(tenant["tenant_id"], digest) is None
    assert caps.take_slot(tenant["tenant_id"], digest) == "capped_address"


def test_the_agent_sees_whether_each_answer_went_out_by_email(api: Api, tenant: dict, sam: Party):
    from tests.helpers import use_limits

    use_limits(email_replies_per_address_per_day=1)
    receive(email(inbound_address(tenant["tenant_id"])))
    [conversation] = email_conversations(tenant["tenant_id"])
    sam.new_frames()
    answer(sam, conversation.conversation_id, "First", "s1")
    answer(sam, conversation.conversation_id, "Second", "s2")
    frames = sam.new_frames()
    seqs = [f["seq"] for f in frames if f["type"] == "ack"]
    assert [(f["seq"], f["status"]) for f in frames if f["type"] == "message.email"] == [(seqs[0], "sent"),
                                                                                         (seqs[1], "capped")]
    # Kept on the messages: the history and the replays show it.
    path = f"/v1/conversations/{conversation.conversation_id}/messages"
    items = api.call("GET", path, token=tenant["admin_token"]).json_body["items"]
    assert [(m["sender"]["kind"], m["email_status"]) for m in items] == [("visitor", None), ("agent", "sent"),
                                                                         ("agent", "capped")]
    sam.send(action="messages.sync", conversation_id=conversation.conversation_id, after_seq=0)
    replayed = [f.get("email_status") for f in sam.new_frames() if f["type"] == "message.new"]
    assert replayed == [None, "sent", "capped"]


def test_a_reply_job_delivered_twice_sends_one_email_and_says_so(api: Api, tenant: dict, sam: Party):
    from chalicelib.email_channel import outbound

    receive(email(inbound_address(tenant["tenant_id"])))
    [conversation] = email_conversations(tenant["tenant_id"])
    answer(sam, conversation.conversation_id, "Once", "s1")
    key = f"{tenant['tenant_id']}#{conversation.conversation_id}"
    [message] = [m for m in MessageModel.query(key) if m.sender_kind == "agent"]
    seq = int(message.seq)
    assert message.email_status == "sent"
    # The run that sent it stopped before marking the message: a redelivery marks it, sending nothing.
    message.update(actions=[MessageModel.email_status.remove()])
    assert outbound.send_reply(tenant["tenant_id"], conversation.conversation_id, seq) == "sent_before"
    assert len(sent()) == 1 and MessageModel.get(key, seq).email_status == "sent"


def test_the_same_subject_alone_never_continues_a_conversation(api: Api, tenant: dict, sam: Party):
    address = inbound_address(tenant["tenant_id"])
    receive(email(address, "First", sender="vera@example.org"))
    receive(email(address, "Someone else", sender="mallory@example.net", subject="My parcel",
                  In_Reply_To="<unknown@example.org>"))
    assert len(email_conversations(tenant["tenant_id"])) == 2


def test_a_message_id_names_a_conversation_only_to_its_visitor(api: Api, tenant: dict, sam: Party):
    address = inbound_address(tenant["tenant_id"])
    receive(email(address, "First", message_id="<vera-1@example.org>"))
    receive(email(address, "Butting in", sender="mallory@example.net", In_Reply_To="<vera-1@example.org>"))
    assert len(email_conversations(tenant["tenant_id"])) == 2


def test_mail_from_a_forged_sender_never_speaks_in_their_conversation(tenant: dict, sam: Party):
    address = inbound_address(tenant["tenant_id"])
    receive(email(address, "First", message_id="<vera-1@example.org>"))
    [conversation] = email_conversations(tenant["tenant_id"])
    # As SES receives it: its verdict above the sender's headers, the From domain's DMARC failing.
    forged = (b"Authentication-Results: amazonses.com; spf=fail smtp.mailfrom=example.org; dkim=none; "
              b"dmarc=fail header.from=example.org;\r\n"
              + email(address, "Send my refund to this new card", In_Reply_To="<vera-1@example.org>"))
    assert inbound.receive(forged).reason == "unauthenticated"
    assert texts(conversation) == ["First"] and len(email_conversations(tenant["tenant_id"])) == 1


def test_a_forged_reply_address_never_continues_a_conversation(api: Api, tenant: dict, sam: Party):
    receive(email(inbound_address(tenant["tenant_id"]), "First"))
    [conversation] = email_conversations(tenant["tenant_id"])
    good = reply_address(tenant["tenant_id"], conversation.conversation_id)
    forged = good.replace(good.split(".")[1].split("@")[0][:4], "0000")
    outcome = inbound.receive(email(forged, "Sneaky", sender="mallory@example.net"))
    assert outcome.reason == "unknown_tenant"
    assert texts(conversation) == ["First"]
    assert inbound.receive(email(good, "By the reply address")).conversation_id == conversation.conversation_id


@pytest.mark.parametrize("headers", [
    {"Auto_Submitted": "auto-replied"}, {"Precedence": "bulk"}, {"X_Autoreply": "yes"},
    {"X_Auto_Response_Suppress": "All"}, {"Return_Path": "<>"},
])
def test_auto_replies_and_bounces_are_dropped_and_never_answered(tenant: dict, headers: dict[str, str]):
    outcome = inbound.receive(email(inbound_address(tenant["tenant_id"]), "I am out of office", **headers))
    assert not outcome.stored and outcome.reason in ("auto_reply", "bounce", "mailing_list")
    assert email_conversations(tenant["tenant_id"]) == [] and send_replies() == 0


def test_loops_bounces_and_strangers_are_dropped(tenant: dict):
    address = inbound_address(tenant["tenant_id"])
    assert inbound.receive(email(address, sender="MAILER-DAEMON@mx.example.org")).reason == "bounce"
    assert inbound.receive(email(address, sender="surveys@mail.switchboard.example")).reason == "loop"
    assert inbound.receive(email(address, X_Switchboard_Conversation="c_1")).reason == "loop"
    assert inbound.receive(email("t_nobody@inbound.switchboard.localhost")).reason == "unknown_tenant"
    assert inbound.receive(b"\x00\x01 not an email").reason == "malformed"
    assert inbound.receive(b"x" * (10 * 1024 * 1024 + 1)).reason == "too_large"
    assert email_conversations(tenant["tenant_id"]) == []


def test_racing_deliveries_of_one_email_store_it_once(tenant: dict, sam: Party):
    raw = email(inbound_address(tenant["tenant_id"]), "Only once", message_id="<dup@example.org>")
    with ThreadPoolExecutor(4) as pool:
        outcomes = list(pool.map(lambda _: inbound.receive(raw), range(4)))
    [conversation] = email_conversations(tenant["tenant_id"])
    assert texts(conversation) == ["Only once"]
    assert {o.conversation_id for o in outcomes} == {conversation.conversation_id}
    assert sorted(o.reason or "stored" for o in outcomes) == ["duplicate"] * 3 + ["stored"]


def test_a_reply_to_a_closed_conversation_opens_a_new_one_for_the_same_visitor(tenant: dict, sam: Party):
    receive(email(inbound_address(tenant["tenant_id"]), "First"))
    [first] = email_conversations(tenant["tenant_id"])
    sam.send(action="conversation.close", conversation_id=first.conversation_id, resolution="resolved")
    outcome = inbound.receive(email(reply_address(tenant["tenant_id"], first.conversation_id), "Again"))
    second = ConversationModel.get(tenant["tenant_id"], outcome.conversation_id)
    assert second.conversation_id != first.conversation_id and second.visitor_id == first.visitor_id
    assert second.channel == "email" and texts(second) == ["Again"]


def test_a_long_email_is_cut_to_a_message(tenant: dict):
    outcome = inbound.receive(email(inbound_address(tenant["tenant_id"]), "word " * 2000))
    [text] = texts(ConversationModel.get(tenant["tenant_id"], outcome.conversation_id))
    assert len(text) == 4000 and text.endswith("[…]")


def test_inbound_mail_has_limits_of_its_own_per_sender(tenant: dict):
    from tests.helpers import use_limits

    use_limits(inbound_emails_per_sender_per_hour=2)
    address = inbound_address(tenant["tenant_id"])
    reasons = [inbound.receive(email(address, f"Mail {n}")).reason for n in range(3)]
    assert reasons == [None, None, "rate_limited"]
    assert inbound.receive(email(address, "Another sender", sender="otto@example.org")).stored


# --- Nothing lost offline: a chat whose visitor is gone is answered by email ------------------------
def offline_chat(api: Api, tenant: dict, sam: Party) -> tuple[Party, str]:
    vera = visitor(api, tenant, name="Vera", email="vera@example.org", locale="zh-CN")
    vera.send(action="message.send", client_msg_id="v1", text="你好，我的包裹在哪里？")
    conversation_id = vera.of_type("ack")[0]["conversation_id"]
    sam.new_frames()
    return vera, conversation_id


def test_an_answer_to_a_visitor_who_left_goes_by_email_and_their_reply_comes_back(api: Api, tenant: dict,
                                                                                    sam: Party):
    from devstack.harness import disconnect

    vera, conversation_id = offline_chat(api, tenant, sam)
    sam.send(action="message.send", conversation_id=conversation_id, client_msg_id="s0", text="Here!")
    assert send_replies() == 0  # the visitor is here: the chat answers
    disconnect(vera.connection_id)
    answer(sam, conversation_id, "已经发货了。")
    [mail] = sent()
    assert mail["To"] == "vera@example.org" and "您与" in mail["Subject"]
    assert "直接回复这封邮件" in mail.get_body(("plain",)).get_content()
    # The visitor answers the email (to the reply address): back in the same conversation, live.
    receive(email(mail["Reply-To"], "收到，谢谢！", subject=f"Re: {mail['Subject']}", In_Reply_To=mail["Message-ID"]))
    [frame] = [f for f in sam.new_frames() if f["type"] == "message.new"]
    assert frame["conversation_id"] == conversation_id and frame["channel"] == "email"
    assert frame["text"] == "收到，谢谢！"


def test_answers_to_an_address_typed_into_a_chat_stay_under_the_cap_per_address(api: Api, tenant: dict,
                                                                                  sam: Party):
    from devstack.harness import disconnect
    from tests.helpers import use_limits

    # The address may be a stranger's: only one that wrote in is answered under the cap on replies.
    use_limits(emails_per_address_per_day=1, email_replies_per_address_per_day=3)
    vera, conversation_id = offline_chat(api, tenant, sam)
    disconnect(vera.connection_id)
    for n in range(2):
        answer(sam, conversation_id, f"Answer {n}", f"s{n}")
    assert len(sent()) == 1


def test_the_email_costs_the_message_path_one_queue_send_and_nothing_more(api: Api, tenant: dict, sam: Party):
    from devstack.harness import disconnect

    vera, conversation_id = offline_chat(api, tenant, sam)
    sam.send(action="message.send", conversation_id=conversation_id, client_msg_id="s0", text="First answer")
    with counted_requests() as here:
        sam.send(action="message.send", conversation_id=conversation_id, client_msg_id="s1", text="One")
    disconnect(vera.connection_id)
    with counted_requests() as gone:
        sam.send(action="message.send", conversation_id=conversation_id, client_msg_id="s2", text="Two")
    # The same DynamoDB requests (who is connected is learnt by the delivery's own Query), one SQS send more.
    assert [r for r in gone if r.startswith("dynamodb.")] == [r for r in here if r.startswith("dynamodb.")]
    assert [r for r in gone if r.startswith("sqs.")] in (["sqs.SendMessage"], ["sqs.GetQueueUrl", "sqs.SendMessage"])
    assert not [r for r in here if r.startswith("sqs.")]


def test_settings_show_the_inbound_address_read_only(api: Api, tenant: dict):
    settings = api.call("GET", "/v1/settings", token=tenant["admin_token"]).json_body
    assert settings["inbound_email_address"] == f"{tenant['tenant_id']}@inbound.switchboard.localhost"
    refused = api.call("PUT", "/v1/settings", {"inbound_email_address": "x@evil.example"}, token=tenant["admin_token"])
    assert refused.status_code == 400 and "inbound_email_address" in refused.json_body["error"]["message"]
    changed = api.call("PUT", "/v1/settings", {"bot_enabled": False}, token=tenant["admin_token"]).json_body
    assert changed["inbound_email_address"] == settings["inbound_email_address"]
    # Derived, never stored.
    assert "inbound_email_address" not in json.dumps(all_items()["switchboard-test-tenants"], default=repr)


# --- Files both ways ------------------------------------------------------------------------------------
def test_files_come_in_with_the_email_and_go_out_with_the_answer(api: Api, tenant: dict, sam: Party):
    from email.message import EmailMessage

    from chalicelib.access.principals import actor
    from chalicelib.attachments.service import read_bytes, store_bytes
    from tests.attachment_files import exe, pdf, png

    mail = EmailMessage()
    mail["From"], mail["To"], mail["Subject"] = "vera@example.org", inbound_address(tenant["tenant_id"]), "Broken"
    mail["Message-ID"] = "<files@example.org>"
    mail.set_content("See the screenshot.")
    mail.add_attachment(png(), maintype="image", subtype="png", filename="screen.png")
    mail.add_attachment(exe(), maintype="application", subtype="octet-stream", filename="run.exe")
    receive(mail.as_bytes())
    [frame] = [f for f in sam.new_frames() if f["type"] == "message.new"]
    [shown] = frame["attachments"]  # the program was refused by the type check, the message still came
    assert shown["filename"] == "screen.png" and shown["content_type"] == "image/png"
    assert read_bytes(tenant["tenant_id"], shown["attachment_id"])[1] == png()
    receive(mail.as_bytes())  # delivered again: no second file, no second message
    assert [f for f in sam.new_frames() if f["type"] == "message.new"] == []

    conversation_id = frame["conversation_id"]
    sam_id = ConversationModel.get(tenant["tenant_id"], conversation_id).agent_id
    invoice = store_bytes(tenant["tenant_id"], conversation_id, "invoice.pdf", "application/pdf", pdf(),
                          actor("agent", sam_id))
    sam.send(action="message.send", conversation_id=conversation_id, client_msg_id="s1", text="Your invoice.",
             attachment_ids=[invoice.attachment_id])
    assert send_replies() == 1
    [reply] = sent()
    [attached] = list(reply.iter_attachments())
    assert attached.get_filename() == "invoice.pdf" and attached.get_content() == pdf()
    assert reply.get_body(("plain",)).get_content().startswith("Your invoice.")


def test_a_reply_copied_to_the_inbound_address_still_continues_by_its_reply_address(tenant: dict, sam: Party):
    address = inbound_address(tenant["tenant_id"])
    first = inbound.receive(email(address, "First"))
    reply_to = reply_address(tenant["tenant_id"], first.conversation_id)
    again = inbound.receive(email(address, "Second", sender="vera.other@example.org", Cc=reply_to))
    assert again.conversation_id == first.conversation_id
