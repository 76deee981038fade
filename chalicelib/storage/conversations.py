"""Conversations, their sealed messages, and the message-id guard against duplicates."""
from __future__ import annotations

from pynamodb.attributes import (
    BinaryAttribute,
    BooleanAttribute,
    MapAttribute,
    NumberAttribute,
    UnicodeAttribute,
    UTCDateTimeAttribute,
)
from pynamodb.indexes import AllProjection, GlobalSecondaryIndex, IncludeProjection, KeysOnlyProjection

from .base import TableModel, string_list, table_meta


class QueueIndex(GlobalSecondaryIndex["ConversationModel"]):
    class Meta:
        index_name = "queue-index"
        projection = IncludeProjection(["visitor_id"])

    queue_key = UnicodeAttribute(hash_key=True)
    queue_sort = UnicodeAttribute(range_key=True)


class VisitorConversationsIndex(GlobalSecondaryIndex["ConversationModel"]):
    class Meta:
        index_name = "visitor-index"
        projection = AllProjection()

    visitor_key = UnicodeAttribute(hash_key=True)
    created_at = UTCDateTimeAttribute(range_key=True)


class AgentConversationsIndex(GlobalSecondaryIndex["ConversationModel"]):
    class Meta:
        index_name = "agent-index"
        projection = AllProjection()

    agent_key = UnicodeAttribute(hash_key=True)
    created_at = UTCDateTimeAttribute(range_key=True)


class HeldIndex(GlobalSecondaryIndex["ConversationModel"]):
    class Meta:
        index_name = "held-index"
        projection = KeysOnlyProjection()

    held_by = UnicodeAttribute(hash_key=True)


class DueIndex(GlobalSecondaryIndex["ConversationModel"]):
    class Meta:
        index_name = "due-index"
        projection = KeysOnlyProjection()

    due_shard = UnicodeAttribute(hash_key=True)
    due_at = UTCDateTimeAttribute(range_key=True)


class RetentionIndex(GlobalSecondaryIndex["ConversationModel"]):
    class Meta:
        index_name = "retention-index"
        projection = KeysOnlyProjection()

    retention_key = UnicodeAttribute(hash_key=True)
    closed_at = UTCDateTimeAttribute(range_key=True)


class SurveyDueIndex(GlobalSecondaryIndex["ConversationModel"]):
    class Meta:
        index_name = "survey-index"
        projection = KeysOnlyProjection()

    survey_shard = UnicodeAttribute(hash_key=True)
    survey_due_at = UTCDateTimeAttribute(range_key=True)


class ConversationModel(TableModel):
    Meta = table_meta("conversations")
    tenant_id = UnicodeAttribute(hash_key=True)
    conversation_id = UnicodeAttribute(range_key=True)
    visitor_id = UnicodeAttribute()
    visitor_key = UnicodeAttribute()  # "{tenant_id}#{visitor_id}"
    status = UnicodeAttribute()  # bot | queued | assigned | closed
    team = UnicodeAttribute(null=True)
    priority = NumberAttribute(default=0)
    agent_id = UnicodeAttribute(null=True)
    agent_key = UnicodeAttribute(null=True)  # "{tenant_id}#{agent_id}" once assigned
    # "{tenant_id}#{agent_id}" only while that agent holds it (sparse held-index): what an agent holds
    # is found without reading their history.
    held_by = UnicodeAttribute(null=True)
    # Present only while queued (sparse queue-index).
    queue_key = UnicodeAttribute(null=True)
    queue_sort = UnicodeAttribute(null=True)
    # Present only while assigned and unanswered ("reply#n" shards, reroute-stale) or queued and not yet
    # alerted about ("sla#n", sla-alerts): the sparse due-index.
    due_shard = UnicodeAttribute(null=True)
    due_at = UTCDateTimeAttribute(null=True)
    # When the tenant's admins were emailed that it waited past the SLA with nobody online: set once,
    # conditionally, so racing sla-alerts runs email about it at most once (alerts/sla.py).
    sla_alerted_at = UTCDateTimeAttribute(null=True)
    skip_agents = string_list()  # agents it was taken from
    # Set once, by the close: while open, the messages themselves say how far they go
    # (conversations/message_store.py), so a message never rewrites this item or its index copies.
    last_seq = NumberAttribute(default=0)
    visitor_read_seq = NumberAttribute(default=0)
    agent_read_seq = NumberAttribute(default=0)
    resolution = UnicodeAttribute(null=True)
    created_at = UTCDateTimeAttribute()
    queued_at = UTCDateTimeAttribute(null=True)
    assigned_at = UTCDateTimeAttribute(null=True)
    first_response_at = UTCDateTimeAttribute(null=True)
    closed_at = UTCDateTimeAttribute(null=True)
    # {"<tenant key version>": conversation data key wrapped by the visitor's key of that version}.
    # Removed by erasure and retention: the conversation's messages can never be opened again.
    data_keys: MapAttribute[str, bytes] = MapAttribute(default=dict)
    # Present (= tenant_id) from close until retention shreds it (sparse retention-index).
    retention_key = UnicodeAttribute(null=True)
    shredded_at = UTCDateTimeAttribute(null=True)
    # Present from close until send-surveys has dealt with it (sparse survey-index).
    survey_shard = UnicodeAttribute(null=True)
    survey_due_at = UTCDateTimeAttribute(null=True)
    # True while it counts in its tenant's open_visitor_conversations (removed in the closing write).
    counted_open = BooleanAttribute(null=True)
    # Absent for the widget's chats ("web"); "email" for those mail opened.
    channel = UnicodeAttribute(null=True)
    # True when the visitor can be answered by email (an email conversation, or a visitor who left an
    # address): an agent's message then goes out as an email when the visitor is not connected.
    reply_by_email = BooleanAttribute(null=True)
    # Staff's labels (normalised, conversations/labels.py); every change bumps labels_version and is
    # conditioned on the version it read, so racing edits never lose one silently.
    labels = string_list()
    labels_version = NumberAttribute(default=0)
    # Private notes written so far (notes are items of their own; the count bounds them).
    note_count = NumberAttribute(default=0)
    # Files attached so far, pending ones included (attachments/uploads.py; the count bounds them).
    attachment_count = NumberAttribute(null=True)
    queue_index = QueueIndex()
    visitor_index = VisitorConversationsIndex()
    agent_index = AgentConversationsIndex()
    held_index = HeldIndex()
    due_index = DueIndex()
    retention_index = RetentionIndex()
    survey_index = SurveyDueIndex()


class MessageModel(TableModel):
    """A conversation's messages, and the authority on its seq: each is written at the latest seq + 1
    only if that seq is free. The close takes the next seq itself with a marker (sender_kind "closed",
    nothing sealed) that no reader shows."""
    Meta = table_meta("messages")
    conversation_key = UnicodeAttribute(hash_key=True)  # "{tenant_id}#{conversation_id}"
    seq = NumberAttribute(range_key=True)
    sender_kind = UnicodeAttribute()  # visitor | agent | bot | system | closed (the close marker)
    sender_id = UnicodeAttribute()
    # Staff and bot names only: a visitor's name lives on their profile alone, so erasure reaches it.
    sender_name = UnicodeAttribute(null=True)
    # nonce || AES-256-GCM ciphertext of the text under the conversation key; never the text itself.
    sealed = BinaryAttribute(legacy_encoding=False)
    key_version = NumberAttribute()  # which of the conversation's data_keys sealed it
    client_msg_id = UnicodeAttribute(null=True)
    sent_at = UTCDateTimeAttribute()
    # The files sent with it, [{attachment_id, filename, content_type, size}] as JSON sealed like the text
    # (transcripts/cipher.py seal_attachments); absent when none.
    attachments_sealed = BinaryAttribute(null=True, legacy_encoding=False)
    attachments_key_version = NumberAttribute(null=True)
    # Each party's messages in the current one-second window up to and including this one,
    # "window#count", carried from the message before: exact, since a message is written only on the
    # one it was counted from (the messages-per-second limit, at no extra request).
    visitor_burst = UnicodeAttribute(null=True)
    agent_burst = UnicodeAttribute(null=True)
    # "email" for a message that came in by email; absent for the widget's (and the console's).
    channel = UnicodeAttribute(null=True)
    # An agent's message that went out as an email reply: whether it was sent ("sent") or why not
    # ("suppressed", "capped", "unsendable"); set by the email-replies consumer, shown to staff.
    email_status = UnicodeAttribute(null=True)


class MessageIdModel(TableModel):
    """A client_msg_id's claim on the seq its message is (or is about to be) stored under; moved on
    only when another message took that seq first."""
    Meta = table_meta("message-ids")
    conversation_key = UnicodeAttribute(hash_key=True)
    client_msg_id = UnicodeAttribute(range_key=True)
    seq = NumberAttribute()


class ConversationNoteModel(TableModel):
    """A private note of staff on a conversation: never sent to the visitor, sealed under the
    conversation's key like its messages (so erasure and retention shred it with them)."""
    Meta = table_meta("conversation-notes")
    conversation_key = UnicodeAttribute(hash_key=True)  # "{tenant_id}#{conversation_id}"
    note_id = UnicodeAttribute(range_key=True)  # sorts by creation
    author_id = UnicodeAttribute()
    author_name = UnicodeAttribute(null=True)
    sealed = BinaryAttribute(legacy_encoding=False)
    key_version = NumberAttribute()
    created_at = UTCDateTimeAttribute()


class RoutingDecisionModel(TableModel):
    """Why a conversation went where it went: one item per routing decision, written in the same
    transaction as the decision itself (conversations/routing_log.py)."""
    Meta = table_meta("routing-decisions")
    conversation_key = UnicodeAttribute(hash_key=True)  # "{tenant_id}#{conversation_id}"
    decision_id = UnicodeAttribute(range_key=True)  # sorts by time
    event = UnicodeAttribute()  # bot | queued | assigned | transferred | escalated | rerouted
    reason = UnicodeAttribute()
    at = UTCDateTimeAttribute()
    agent_id = UnicodeAttribute(null=True)  # who got it
    from_agent_id = UnicodeAttribute(null=True)  # who it was taken from
    team = UnicodeAttribute(null=True)  # the queue: a team, tier:N, or none (any team)
    load = NumberAttribute(null=True)  # the agent's load once assigned, of ...
    capacity = NumberAttribute(null=True)  # ... their capacity
