"""Which conversation an email belongs to, by Message-IDs only (never by subject): every Message-ID we
received or sent is recorded under its tenant with its conversation, and a reply's In-Reply-To and
References are looked up there. The record of a received Message-ID is written once (conditional
put), so racing deliveries of one email agree on one conversation and store its message once."""
from __future__ import annotations

import hashlib

from pynamodb.exceptions import DoesNotExist
from pynamodb.expressions.update import Action

from ..runtime import runtime
from ..storage.conversations import ConversationModel
from ..storage.email_threads import EmailThreadModel, conversation_key, thread_key_of
from ..storage.helpers import refusal_means
from ..transcripts.cipher import seal_subject

REFERENCES_SENT = 20  # the newest Message-IDs a reply's References carries


def digest(message_id: str) -> str:
    return hashlib.sha256(message_id.encode()).hexdigest()


def _message_key(message_id: str) -> str:
    return f"m#{digest(message_id)}"


def conversation_of(tenant_id: str, message_ids: list[str]) -> str | None:
    """The conversation of the newest of `message_ids` (In-Reply-To first, then References from the
    end) that the tenant knows; one BatchGetItem."""
    ordered = list(dict.fromkeys(message_ids))[:100]
    if not ordered:
        return None
    found = {item.thread_key: item.conversation_id for item in
             EmailThreadModel.batch_get([(tenant_id, _message_key(m)) for m in ordered])}
    return next((found[key] for m in ordered if (key := _message_key(m)) in found), None)


def claim(tenant_id: str, message_id: str, conversation_id: str, direction: str) -> tuple[str, bool]:
    """Record `message_id` as `conversation_id`'s; the conversation it was recorded for first (another
    delivery of the same email may have been quicker), and whether this call recorded it."""
    record = EmailThreadModel(tenant_id, _message_key(message_id), conversation_id=conversation_id,
                              conversation_key=conversation_key(tenant_id, conversation_id), direction=direction,
                              created_at=runtime().clock.utcnow())
    with refusal_means() as taken:
        record.save(condition=EmailThreadModel.thread_key.does_not_exist())
    if not taken:
        return conversation_id, True
    return str(EmailThreadModel.get(tenant_id, _message_key(message_id), consistent_read=True).conversation_id), False


def thread(conversation: ConversationModel) -> EmailThreadModel | None:
    try:
        return EmailThreadModel.get(conversation.tenant_id, thread_key_of(conversation.conversation_id),
                                    consistent_read=True)
    except DoesNotExist:
        return None


def note_received(conversation: ConversationModel, message_id: str | None, subject: str) -> None:
    """The visitor's latest email: what our next reply answers (In-Reply-To) and its subject (kept from
    the first email, sealed)."""
    item = EmailThreadModel(conversation.tenant_id, thread_key_of(conversation.conversation_id))
    actions: list[Action] = [EmailThreadModel.conversation_id.set(conversation.conversation_id),
               EmailThreadModel.conversation_key.set(conversation_key(conversation.tenant_id,
                                                                      conversation.conversation_id)),
               EmailThreadModel.created_at.set(EmailThreadModel.created_at | runtime().clock.utcnow())]
    if subject:
        sealed = seal_subject(conversation, subject)
        actions += [EmailThreadModel.subject_sealed.set(EmailThreadModel.subject_sealed | sealed.blob),
                    EmailThreadModel.subject_key_version.set(
                        EmailThreadModel.subject_key_version | sealed.key_version)]
    if message_id:
        actions += [EmailThreadModel.last_inbound_message_id.set(message_id),
                    EmailThreadModel.references.set(
                        (EmailThreadModel.references | []).append([message_id]))]
    item.update(actions=actions)


def note_sent(conversation: ConversationModel, message_id: str) -> None:
    claim(conversation.tenant_id, message_id, conversation.conversation_id, "out")
    EmailThreadModel(conversation.tenant_id, thread_key_of(conversation.conversation_id)).update(actions=[
        EmailThreadModel.conversation_id.set(conversation.conversation_id),
        EmailThreadModel.conversation_key.set(conversation_key(conversation.tenant_id, conversation.conversation_id)),
        EmailThreadModel.created_at.set(EmailThreadModel.created_at | runtime().clock.utcnow()),
        EmailThreadModel.references.set((EmailThreadModel.references | []).append([message_id]))])
