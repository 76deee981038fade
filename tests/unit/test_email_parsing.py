"""Reading received mail (chalicelib/email_channel/parsing.py, quotes.py, screening.py) without AWS."""
from __future__ import annotations

import pytest

from chalicelib.email_channel.parsing import MalformedMail, TooLarge, html_to_text, parse
from chalicelib.email_channel.quotes import strip_quoted
from chalicelib.email_channel.screening import drop_reason
from tests.email_mail import email

TO = "t_abc@inbound.switchboard.localhost"


def test_a_multipart_email_gives_its_text_part_its_ids_and_its_recipients():
    mail = parse(email(TO, "Plain words", html="<p>HTML words</p>", message_id="<m1@example.org>",
                       In_Reply_To="<ours@mail.switchboard.example>",
                       References="<a@x.org>  <ours@mail.switchboard.example>", Cc="other@example.org"))
    assert mail.text == "Plain words" and mail.sender == "vera@example.org" and mail.sender_name == "Vera"
    assert mail.message_id == "<m1@example.org>" and mail.in_reply_to == ["<ours@mail.switchboard.example>"]
    assert mail.references == ["<a@x.org>", "<ours@mail.switchboard.example>"]
    assert mail.recipients == [TO, "other@example.org"]


def test_an_html_only_email_is_read_as_text_never_as_markup():
    mail = parse(email(TO, "", html="<html><head><style>p{}</style><script>alert(1)</script></head>"
                                   "<body><p>Hello <b>there</b></p><p>Fish &amp; chips</p></body></html>"))
    assert mail.text == "Hello there\n\nFish & chips"
    assert html_to_text("<div>a<br>b</div>") == "a\nb"


def test_a_chinese_subject_in_encoded_words_and_a_chinese_name_are_decoded():
    raw = (b"From: =?utf-8?b?5byg5LiJ?= <zhang@example.cn>\r\nTo: " + TO.encode() + b"\r\n"
           b"Subject: =?utf-8?b?6YCA5qy+6Zeu6aKY?=\r\nMessage-ID: <z@example.cn>\r\n"
           b"Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: base64\r\n\r\n"
           b"5oiR6KaB6YCA5qy+\r\n")
    mail = parse(raw)
    assert mail.subject == "退款问题" and mail.sender_name == "张三" and mail.text == "我要退款"


@pytest.mark.parametrize("text, new", [
    ("Thanks, that works.\n\nOn Mon, Dec 7, 2026 at 10:00 AM Shop <s@x.org> wrote:\n> Hello\n> more",
     "Thanks, that works."),
    ("Great!\n\n> quoted line\n> another", "Great!"),
    ("好的，谢谢。\n\n在 2026年12月7日 星期一 10:00，客服 <s@x.org> 写道：\n> 您好", "好的，谢谢。"),
    ("收到\n\n2026年12月7日 10:00，客服 <s@x.org> 写道：\n> 您好", "收到"),
])
def test_the_quoted_history_of_a_reply_is_cut_in_english_and_chinese(text: str, new: str):
    assert strip_quoted(text) == new
    assert parse(email(TO, text)).text == new


def test_attachments_are_read_and_too_many_refused():
    from email.message import EmailMessage

    def with_files(count: int) -> bytes:
        mail = EmailMessage()
        mail["From"], mail["To"], mail["Subject"] = "v@example.org", TO, "files"
        mail.set_content("see attached")
        for n in range(count):
            mail.add_attachment(b"%PDF-1.4 data", maintype="application", subtype="pdf", filename=f"f{n}.pdf")
        return mail.as_bytes()

    [attachment] = parse(with_files(1)).attachments
    assert (attachment.filename, attachment.content_type, attachment.data) == ("f0.pdf", "application/pdf",
                                                                               b"%PDF-1.4 data")
    with pytest.raises(TooLarge):
        parse(with_files(11))


@pytest.mark.parametrize("raw", [b"", b"\x00\x01\x02", b"just some words without headers",
                                 b"To: x@y.org\r\n\r\nno sender", b"From: not an address\r\n\r\nhi"])
def test_bytes_that_are_no_email_are_refused_clearly(raw: bytes):
    with pytest.raises(MalformedMail):
        parse(raw)


@pytest.mark.parametrize("headers, sender, reason", [
    ({}, "vera@example.org", None),
    ({"Auto_Submitted": "no"}, "vera@example.org", None),
    ({"Auto_Submitted": "auto-replied"}, "vera@example.org", "auto_reply"),
    ({"Auto_Submitted": "auto-generated"}, "vera@example.org", "auto_reply"),
    ({"Precedence": "bulk"}, "vera@example.org", "auto_reply"),
    ({"Precedence": "junk"}, "vera@example.org", "auto_reply"),
    ({"Precedence": "list"}, "vera@example.org", "mailing_list"),
    ({"X_Autoreply": "yes"}, "vera@example.org", "auto_reply"),
    ({"X_Auto_Response_Suppress": "OOF, AutoReply"}, "vera@example.org", "auto_reply"),
    ({"List_Id": "<news.example.org>"}, "vera@example.org", "mailing_list"),
    ({}, "MAILER-DAEMON@example.org", "bounce"),
    ({}, "postmaster@example.org", "bounce"),
    ({"Return_Path": "<>"}, "vera@example.org", "bounce"),
    ({}, "someone@inbound.switchboard.localhost", "loop"),
    ({}, "surveys@mail.switchboard.example", "loop"),
    ({"X_Switchboard_Conversation": "c_1"}, "vera@example.org", "loop"),
    ({"X_SES_Spam_Verdict": "FAIL"}, "vera@example.org", "spam"),
])
def test_robots_loops_and_lists_are_recognised(headers: dict[str, str], sender: str, reason: str | None):
    assert drop_reason(parse(email(TO, "Hello", sender=sender, **headers))) == reason


SES_SPF_PASS = "spf=pass (spfCheck: domain of example.org designates 192.0.2.1 as permitted sender) client-ip=192.0.2.1"


@pytest.mark.parametrize("results, reason", [
    (f"amazonses.com; {SES_SPF_PASS}; dkim=pass header.i=@example.org; dmarc=pass header.from=example.org;", None),
    ("amazonses.com; spf=pass; dkim=none; dmarc=fail header.from=example.org;", "unauthenticated"),
    ("amazonses.com; spf=fail smtp.mailfrom=example.org; dkim=none;", "unauthenticated"),
    ("amazonses.com; spf=fail (spfCheck: dkim=pass is not said here) client-ip=192.0.2.9;", "unauthenticated"),
    # Forwarded: SPF breaks, the DKIM signature survives.
    ("amazonses.com; spf=fail smtp.mailfrom=example.org; dkim=pass header.i=@example.org;", None),
    # A domain that publishes little is not held against its senders.
    ("amazonses.com; spf=softfail; dkim=none;", None),
    ("amazonses.com; spf=none; dkim=none; dmarc=none header.from=example.org;", None),
    # Only our receiver's verdict counts.
    ("mx.example.net; spf=fail; dmarc=fail", None),
])
def test_mail_its_senders_domain_disowns_is_dropped(results: str, reason: str | None):
    raw = f"Authentication-Results: {results}\r\n".encode() + email(TO, "Hello")
    assert drop_reason(parse(raw)) == reason


def test_a_verdict_the_sender_wrote_below_ses_own_is_never_read():
    forged_pass = email(TO, "Hello", Authentication_Results="amazonses.com; spf=pass; dkim=pass; dmarc=pass")
    raw = b"Authentication-Results: amazonses.com; spf=fail; dkim=none; dmarc=fail\r\n" + forged_pass
    assert drop_reason(parse(raw)) == "unauthenticated"


def test_a_delivery_report_is_a_bounce():
    raw = (b"From: Mail Delivery <mailer@example.org>\r\nTo: " + TO.encode() + b"\r\nSubject: Undelivered\r\n"
           b"MIME-Version: 1.0\r\nContent-Type: multipart/report; report-type=delivery-status; boundary=b\r\n\r\n"
           b"--b\r\nContent-Type: text/plain\r\n\r\nFailed.\r\n--b\r\nContent-Type: message/delivery-status\r\n\r\n"
           b"Reporting-MTA: dns; mx.example.org\r\n\r\nFinal-Recipient: rfc822; x@y.org\r\nAction: failed\r\n"
           b"Status: 5.1.1\r\n--b--\r\n")
    assert drop_reason(parse(raw)) == "bounce"
