"""Agents' messages sent as emails (the email-replies queue, fed by conversations/email_replies.py):
a proper reply to the visitor's latest email (Message-ID ours and recorded, In-Reply-To, References,
one "Re:"), from "<agent> via <tenant>" with the conversation's signed reply address to answer to,
as text and as HTML escaped from that text, under the suppression list and the daily caps.

A human's reply carries no Auto-Submitted header (RFC 3834: it is not automatic), so the visitor's
own autoresponder may answer it, and that answer is dropped when it comes in (screening.py)."""
from __future__ import annotations

import html
import json
import logging
import re
from collections.abc import Iterable
from email.message import EmailMessage
from email.utils import formataddr, formatdate
from typing import Any

from pynamodb.exceptions import DoesNotExist

from ..attachments.service import read_bytes
from ..conversations.delivery import broadcast
from ..errors import ApiError
from ..i18n import negotiate, text
from ..mail import sending
from ..mail.texts import business, display_name
from ..runtime import runtime
from ..storage.conversations import ConversationModel, MessageModel
from ..storage.helpers import refusal_means
from ..storage.settings import Settings
from ..storage.tenants import TenantModel
from ..storage.visitors import VisitorModel
from ..transcripts.cipher import reveal, thread_subject
from . import threads
from .addresses import reply_address
from .screening import OUR_HEADER

log = logging.getLogger("switchboard.email_channel")
_RE = re.compile(r"^\s*((re|aw|sv|回复|答复)\s*[:：]\s*)+", re.IGNORECASE)


def handle_reply_jobs(bodies: Iterable[str]) -> list[str]:
    outcomes = []
    for body in bodies:
        job = json.loads(body)
        outcomes.append(send_reply(job["tenant_id"], job["conversation_id"], int(job["seq"])))
    return outcomes


def send_reply(tenant_id: str, conversation_id: str, seq: int) -> str:
    """Send the agent's message `seq` of the conversation to its visitor's address; what happened
    (sending.Outcome, or "sent_before" when a redelivered job finds its Message-ID recorded)."""
    try:
        conversation = ConversationModel.get(tenant_id, conversation_id, consistent_read=True)
        message = MessageModel.get(f"{tenant_id}#{conversation_id}", seq, consistent_read=True)
        visitor = VisitorModel.get(tenant_id, conversation.visitor_id, consistent_read=True)
        tenant = TenantModel.get(tenant_id, consistent_read=True)
    except DoesNotExist:
        return "none"
    revealed = reveal(conversation, message)
    said = revealed.text
    if said is None or message.sender_kind != "agent" or not visitor.email or not sending.sendable(visitor.email):
        return "none"  # shredded or erased meanwhile, or nobody to write to
    message_id = f"<{conversation_id}.{seq}@{_domain()}>"
    if threads.conversation_of(tenant_id, [message_id]) is not None:
        if message.email_status is None:  # the run that sent it stopped before saying so
            _tell_staff(conversation, message, "sent")
        return "sent_before"
    locale = negotiate(visitor.locale, Settings.model_validate(tenant.settings).default_locale)
    mail = build_reply(conversation, tenant.name, visitor.email, message.sender_name or "", said, locale, message_id)
    _attach(mail, tenant_id, revealed.attachments)
    # Only an address that wrote to the tenant is answered under the cap on replies; one typed into a
    # chat form may be a stranger's, and stays under the low cap per address.
    outcome = sending.send_built(tenant_id, mail, answers_mail=conversation.channel == "email")
    if outcome == "email":
        threads.note_sent(conversation, message_id)
    _tell_staff(conversation, message, EMAIL_STATUS[outcome])
    log.info(json.dumps({"event": "email_reply", "outcome": outcome, "tenant_id": tenant_id,
                         "conversation_id": conversation_id, "seq": seq}))
    return outcome


# What the agent is shown of an email reply's fate (on the message, and live as a message.email frame).
EMAIL_STATUS: dict[sending.Outcome, str] = {"email": "sent", "suppressed": "suppressed", "capped_tenant": "capped",
                                            "capped_address": "capped", "none": "unsendable"}


def _tell_staff(conversation: ConversationModel, message: MessageModel, status: str) -> None:
    """Whether the answer went out, kept on the message (history, replays) and sent to the agent now, so
    nobody believes a visitor was answered whose email never left."""
    with refusal_means() as gone:  # erased meanwhile: nothing left to mark
        message.update(actions=[MessageModel.email_status.set(status)], condition=MessageModel.seq.exists())
    if not gone:
        broadcast(conversation, {"type": "message.email", "conversation_id": conversation.conversation_id,
                                 "seq": int(message.seq), "status": status}, only="agent")


def _domain() -> str:
    return runtime().config.mail_from.rpartition("@")[2].strip(">")


def build_reply(conversation: ConversationModel, tenant_name: str, to: str, agent_name: str, said: str,
                locale: str, message_id: str) -> EmailMessage:
    item = threads.thread(conversation)
    subject = thread_subject(conversation, item)
    shown_business = business(tenant_name, locale)
    mail = EmailMessage(policy=sending.POLICY)
    sender = text(locale, "email.reply_from", agent=display_name(agent_name) or text(locale, "email.reply_agent"),
                  business=display_name(tenant_name) or text(locale, "email.unknown_business"))
    mail["From"] = formataddr((sender, runtime().config.mail_from.strip("<>")))
    mail["To"] = to
    mail["Reply-To"] = reply_address(conversation.tenant_id, conversation.conversation_id)
    mail["Subject"] = ("Re: " + _RE.sub("", subject) if subject
                       else text(locale, "email.reply_subject", business=shown_business))
    mail["Date"] = formatdate(runtime().clock.now(), usegmt=True)
    mail["Message-ID"] = message_id
    if item is not None and item.last_inbound_message_id:
        mail["In-Reply-To"] = item.last_inbound_message_id
    if item is not None and item.references:
        mail["References"] = " ".join(list(item.references)[-threads.REFERENCES_SENT:])
    mail[OUR_HEADER] = conversation.conversation_id  # seen coming back in, it is a loop
    paragraphs = [said, text(locale, "email.reply_footer", business=shown_business)]
    body = "\n\n".join(paragraphs) + "\n"
    mail.set_content(body, cte="7bit" if body.isascii() else "quoted-printable")
    # The HTML part is the text, escaped: never markup anyone typed.
    markup = "".join(f"<p>{html.escape(p).replace(chr(10), '<br>')}</p>" for p in paragraphs)
    mail.add_alternative(f'<!doctype html><html lang="{locale}"><body>{markup}</body></html>\n', subtype="html",
                         cte="quoted-printable")
    return mail


# SES takes at most 10 MB a message, base64 included: the files attached stay under this, the rest are
# left out (the visitor can ask for them in the chat).
ATTACHED_MAX_BYTES = 7 * 1024 * 1024


def _attach(mail: EmailMessage, tenant_id: str, refs: tuple[dict[str, Any], ...]) -> None:
    total = 0
    for ref in refs:
        try:
            info, data = read_bytes(tenant_id, str(ref["attachment_id"]))
        except ApiError:  # erased or gone meanwhile
            continue
        if total + len(data) > ATTACHED_MAX_BYTES:
            log.info(json.dumps({"event": "email_attachment_left_out", "tenant_id": tenant_id}))
            continue
        total += len(data)
        maintype, _, subtype = info.content_type.partition("/")
        mail.add_attachment(data, maintype=maintype, subtype=subtype or "octet-stream", filename=info.filename)
