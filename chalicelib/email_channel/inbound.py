"""A received email, from the inbound bucket to a conversation: read, screened, rate-limited, threaded,
stored as the visitor's message (channel "email") and delivered or routed like a chat message.

Continued only by a signed reply address, or by In-Reply-To/References naming a Message-ID of the
tenant's conversation when the sender is that conversation's visitor; anything else opens (or joins
the sender's open) email conversation. A reply to a closed conversation opens a new one for the same
visitor (their profile lists both). Whatever is dropped is logged with its reason, never answered.
"""
from __future__ import annotations

import base64
import hashlib
import json
import logging
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote_plus

from pynamodb.exceptions import DoesNotExist

from .. import ratelimit
from ..access.principals import actor
from ..attachments.service import store_bytes
from ..conversations.message_store import store
from ..conversations.messages import deliver_stored
from ..conversations.opening import open_for_visitor
from ..conversations.parties import Author
from ..errors import ApiError, NotFound, RateLimited
from ..runtime import runtime
from ..storage.conversations import ConversationModel
from ..storage.helpers import refusal_means
from ..storage.settings import Settings
from ..storage.tenants import TenantModel
from ..storage.visitors import VisitorModel
from ..visitors.service import earlier_visitor_with_email
from . import threads
from .addresses import Recipient, recipient
from .parsing import MalformedMail, ParsedMail, TooLarge, parse
from .screening import DropReason, drop_reason

log = logging.getLogger("switchboard.email_channel")
HOUR = 3600


@dataclass(frozen=True)
class Outcome:
    stored: bool
    reason: DropReason | None = None
    conversation_id: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return {"stored": self.stored, "reason": self.reason, "conversation_id": self.conversation_id}


def _dropped(reason: DropReason, tenant_id: str | None = None) -> Outcome:
    # Never the addresses or the text: the reason and the tenant are what an operator needs.
    log.info(json.dumps({"event": "email_dropped", "reason": reason, "tenant_id": tenant_id}))
    return Outcome(False, reason)


def handle_notifications(bodies: Iterable[str]) -> list[dict[str, Any]]:
    """The inbound bucket's object-created notifications (S3 to SQS): each email read, received and
    then deleted from the bucket (its text lives on only sealed, as the conversation's message)."""
    s3, outcomes = runtime().client("s3"), []
    for body in bodies:
        # Only the inbound bucket may notify this queue (its policy), and only it may be read (IAM).
        for record in json.loads(body).get("Records", []):  # an s3:TestEvent has none
            bucket, key = record["s3"]["bucket"]["name"], unquote_plus(record["s3"]["object"]["key"])
            try:
                raw = s3.get_object(Bucket=bucket, Key=key)["Body"].read()
            except s3.exceptions.NoSuchKey:
                continue  # a redelivered notification of an email already received
            outcomes.append(receive(raw).as_dict())
            s3.delete_object(Bucket=bucket, Key=key)
    return outcomes


def receive(raw: bytes) -> Outcome:
    try:
        mail = parse(raw)
    except TooLarge:
        return _dropped("too_large")
    except MalformedMail:
        return _dropped("malformed")
    # A reply address first: a reply copied to the inbound address too still continues its conversation.
    ours = [found for address in mail.recipients if (found := recipient(address)) is not None]
    to = next((r for r in ours if r.conversation_id), ours[0] if ours else None)
    tenant = _tenant(to)
    if to is None or tenant is None:
        return _dropped("unknown_tenant")
    reason = drop_reason(mail)
    if reason is not None:
        return _dropped(reason, to.tenant_id)
    try:  # mail's own limits: never the tenant's request budget, so staff are never slowed by it
        config = runtime().config
        ratelimit.enforce("inbound-email-sender", f"{to.tenant_id}#{mail.sender}",
                          config.inbound_emails_per_sender_per_hour, HOUR)
        ratelimit.enforce("inbound-email-tenant", to.tenant_id, config.inbound_emails_per_tenant_per_hour, HOUR)
    except RateLimited:
        return _dropped("rate_limited", to.tenant_id)
    text = mail.text or mail.subject
    if not text and not mail.attachments:
        return _dropped("empty", to.tenant_id)
    try:
        return _store(tenant, to, mail, text)
    except NotFound:
        return _dropped("visitor_erased", to.tenant_id)


def _tenant(to: Recipient | None) -> TenantModel | None:
    if to is None:
        return None
    try:
        return TenantModel.get(to.tenant_id, consistent_read=True)
    except DoesNotExist:
        return None


def _store(tenant: TenantModel, to: Recipient, mail: ParsedMail, text: str) -> Outcome:
    # An email without a Message-ID is known by its content (a redelivery is the same bytes).
    message_id = mail.message_id or f"<{hashlib.sha256(repr(mail).encode()).hexdigest()}@switchboard.invalid>"
    conversation, opened_with = _conversation(tenant, to, mail)
    claimed, first = threads.claim(tenant.tenant_id, message_id, conversation.conversation_id, "in")
    if claimed != conversation.conversation_id:  # another delivery of this email was first
        conversation = ConversationModel.get(tenant.tenant_id, claimed, consistent_read=True)
    if conversation.status == "closed":  # closed in between: the visitor's next conversation
        conversation, opened_with = open_for_visitor(tenant.tenant_id, conversation.visitor_id, "email")
    # The files once, by the delivery that recorded the Message-ID (a redelivery stores nothing new).
    files = _stored_files(conversation, mail) if first else []
    message, stored_now = store(conversation, Author("visitor", conversation.visitor_id), client_msg_id(message_id),
                                text, files, channel="email")
    threads.note_received(conversation, mail.message_id, mail.subject)
    if stored_now:
        deliver_stored(conversation, message, text, opened_with, attachments=files)
    return Outcome(True, None if stored_now else "duplicate", conversation.conversation_id)


def _stored_files(conversation: ConversationModel, mail: ParsedMail) -> list[dict[str, Any]]:
    """The email's attachments, each stored as an upload would be (the same type check, limit and
    sealing); one that is refused is left out and logged, the message still arrives."""
    stored = []
    for attachment in mail.attachments:
        try:
            info = store_bytes(conversation.tenant_id, conversation.conversation_id, attachment.filename[:200],
                               attachment.content_type, attachment.data,
                               actor("visitor", conversation.visitor_id))
        except ApiError as refused:
            log.info(json.dumps({"event": "email_attachment_refused", "code": refused.code,
                                 "tenant_id": conversation.tenant_id}))
            continue
        stored.append(info.as_ref())
    return stored


def client_msg_id(message_id: str) -> str:
    return "email:" + threads.digest(message_id)[:40]


def _conversation(tenant: TenantModel, to: Recipient,
                  mail: ParsedMail) -> tuple[ConversationModel, Settings | None]:
    """The conversation the email continues, else the sender's open email conversation or a new one."""
    found = _continued(tenant.tenant_id, to, mail)
    if found is not None and found.status != "closed":
        return found, None
    visitor_id = found.visitor_id if found is not None else _email_visitor(tenant, mail).visitor_id
    return open_for_visitor(tenant.tenant_id, visitor_id, "email")


def _continued(tenant_id: str, to: Recipient, mail: ParsedMail) -> ConversationModel | None:
    conversation_id = to.conversation_id  # a signed reply address: whoever holds it answers there
    by_reference = conversation_id is None
    if by_reference:
        conversation_id = threads.conversation_of(tenant_id, [*mail.in_reply_to, *reversed(mail.references)])
    if conversation_id is None:
        return None
    try:
        conversation = ConversationModel.get(tenant_id, conversation_id, consistent_read=True)
    except DoesNotExist:
        return None
    if by_reference:
        # A Message-ID is no secret (everyone on a thread has it): only the visitor continues by it.
        visitor = VisitorModel.get(tenant_id, conversation.visitor_id, consistent_read=True)
        if (visitor.email or "").lower() != mail.sender:
            return None
    return conversation


def email_visitor_id(tenant_id: str, address: str) -> str:
    """The one visitor of a sender address in a tenant: an id derived from both, so racing first emails
    of one sender make one visitor (the email index is eventually consistent; this is not)."""
    raw = hashlib.sha256(f"switchboard.email-visitor.v1|{tenant_id}|{address}".encode()).digest()[:16]
    return "v_" + base64.b32hexencode(raw).decode().rstrip("=").lower()


def _email_visitor(tenant: TenantModel, mail: ParsedMail) -> VisitorModel:
    visitor_id = email_visitor_id(tenant.tenant_id, mail.sender)
    now = runtime().clock.utcnow()
    written = " ".join((mail.subject, mail.text))
    locale = "zh-CN" if any("\u4e00" <= ch <= "\u9fff" for ch in written) else None
    visitor = VisitorModel(tenant.tenant_id, visitor_id, name=mail.sender_name[:100] or None, email=mail.sender,
                           locale=locale or Settings.model_validate(tenant.settings).default_locale,
                           created_at=now, last_seen_at=now,
                           known_as=earlier_visitor_with_email(tenant.tenant_id, mail.sender))
    with refusal_means() as exists:
        visitor.save(condition=VisitorModel.visitor_id.does_not_exist())
    return VisitorModel.get(tenant.tenant_id, visitor_id, consistent_read=True) if exists else visitor
