"""pynamodb models, one per table of infra/template.yaml.

The template is the source of truth; tests/unit/test_models_match_template.py fails when a
model and the template disagree on a table's keys, indexes or TTL attribute. Every key
starts with tenant_id except where AWS names the thing (connection ids) or the key is a
counter bucket.
"""
from __future__ import annotations

from pynamodb.attributes import (
    BinaryAttribute,
    BooleanAttribute,
    JSONAttribute,
    ListAttribute,
    MapAttribute,
    NumberAttribute,
    TTLAttribute,
    UnicodeAttribute,
    UnicodeSetAttribute,
    UTCDateTimeAttribute,
)
from pynamodb.indexes import AllProjection, GlobalSecondaryIndex, IncludeProjection, KeysOnlyProjection
from pynamodb.models import Model

from ..config import get_config

_config = get_config()


def _meta(name: str) -> type:
    class Meta:
        table_name = _config.table(name)
        region = _config.region

    return Meta


class WrappedKey(MapAttribute):
    """A tenant data key as KMS returned it: ciphertext only, never the plaintext."""
    version = NumberAttribute()
    wrapped = BinaryAttribute(legacy_encoding=False)
    created_at = UTCDateTimeAttribute()


class TenantDirectoryIndex(GlobalSecondaryIndex):
    """Every tenant, for the jobs that visit each one (retention, audit-verify), without a scan."""
    class Meta:
        index_name = "directory-index"
        projection = IncludeProjection(["settings"])

    directory_shard = UnicodeAttribute(hash_key=True)
    tenant_id = UnicodeAttribute(range_key=True)


class TenantModel(Model):
    Meta = _meta("tenants")
    tenant_id = UnicodeAttribute(hash_key=True)
    directory_shard = UnicodeAttribute()
    directory_index = TenantDirectoryIndex()
    name = UnicodeAttribute()
    widget_key = UnicodeAttribute()
    created_at = UTCDateTimeAttribute()
    settings = JSONAttribute(default=dict)
    data_keys = ListAttribute(of=WrappedKey, default=list)
    current_key_version = NumberAttribute(default=1)
    # Changed in the same transaction as every FAQ put or delete, so the 200-entry cap holds
    # under concurrent writers without counting the partition.
    faq_count = NumberAttribute(default=0)
    # Visitor conversations not yet closed: raised in the transaction that opens one (conditioned on
    # the ceiling), lowered in the one that closes it, so the ceiling holds without counting.
    open_visitor_conversations = NumberAttribute(null=True)
    # The identity-verification secret, wrapped by tenant key `version` (tenancy/identity.py).
    identity_secret = WrappedKey(null=True)


class AgentLapseIndex(GlobalSecondaryIndex):
    class Meta:
        index_name = "lapse-index"
        projection = KeysOnlyProjection()

    lapse_shard = UnicodeAttribute(hash_key=True)
    lapse_at = UTCDateTimeAttribute(range_key=True)


class AgentModel(Model):
    Meta = _meta("agents")
    tenant_id = UnicodeAttribute(hash_key=True)
    agent_id = UnicodeAttribute(range_key=True)
    email = UnicodeAttribute()
    name = UnicodeAttribute()
    role = UnicodeAttribute()
    teams = ListAttribute(of=UnicodeAttribute, default=list)
    max_concurrent = NumberAttribute(default=5)
    tier = NumberAttribute(default=1)
    active = BooleanAttribute(default=True)
    # Presence and capacity, mirrored into the roster for routing (docs/conversations.md).
    status = UnicodeAttribute(default="offline")
    load = NumberAttribute(default=0)
    idle_since = UTCDateTimeAttribute(null=True)
    # Set while the agent has no connection (or went offline): reroute-stale acts after it.
    lapse_shard = UnicodeAttribute(null=True)
    lapse_at = UTCDateTimeAttribute(null=True)
    lapse_index = AgentLapseIndex()
    # Bumped to end every session of this agent at once (deactivation, password change).
    session_version = NumberAttribute(default=1)
    created_at = UTCDateTimeAttribute()
    updated_at = UTCDateTimeAttribute()


class CredentialModel(Model):
    Meta = _meta("credentials")
    tenant_id = UnicodeAttribute(hash_key=True)
    email = UnicodeAttribute(range_key=True)
    agent_id = UnicodeAttribute()
    password_hash = UnicodeAttribute()


class AgentSessionModel(Model):
    """One login of an agent (tenancy/sessions.py): its tokens carry the session id and work only
    while this item exists and has not reached expires_at, the session's absolute end. Logout deletes it."""
    Meta = _meta("agent-sessions")
    tenant_id = UnicodeAttribute(hash_key=True)
    session_id = UnicodeAttribute(range_key=True)
    agent_id = UnicodeAttribute()
    created_at = UTCDateTimeAttribute()
    expires_at = TTLAttribute()


class ApiKeyModel(Model):
    Meta = _meta("api-keys")
    tenant_id = UnicodeAttribute(hash_key=True)
    key_id = UnicodeAttribute(range_key=True)
    name = UnicodeAttribute()
    role = UnicodeAttribute()
    secret_sha256 = UnicodeAttribute()
    created_at = UTCDateTimeAttribute()
    created_by = UnicodeAttribute(null=True)
    revoked_at = UTCDateTimeAttribute(null=True)


class VisitorEmailIndex(GlobalSecondaryIndex):
    class Meta:
        index_name = "email-index"
        projection = KeysOnlyProjection()

    tenant_id = UnicodeAttribute(hash_key=True)
    email = UnicodeAttribute(range_key=True)


class VisitorModel(Model):
    Meta = _meta("visitors")
    tenant_id = UnicodeAttribute(hash_key=True)
    visitor_id = UnicodeAttribute(range_key=True)
    name = UnicodeAttribute(null=True)
    email = UnicodeAttribute(null=True)
    locale = UnicodeAttribute(null=True)
    team = UnicodeAttribute(null=True)
    created_at = UTCDateTimeAttribute()
    last_seen_at = UTCDateTimeAttribute()
    # Kept by staff on the visitor's profile (PATCH /v1/visitors/{id}).
    tags = ListAttribute(of=UnicodeAttribute, default=list)
    notes = UnicodeAttribute(null=True)
    # An earlier visitor with the same email: an unverified hint for agents (an email proves
    # nothing), never merged, never shown to the visitor, never its history.
    known_as = UnicodeAttribute(null=True)
    # The tenant's own user id, verified by its identity secret (user_hash); one visitor per user_id,
    # held by a VisitorIdentityModel item.
    user_id = UnicodeAttribute(null=True)
    email_index = VisitorEmailIndex()
    # {"<tenant key version>": visitor data key wrapped by that tenant key} (transcripts/keys.py).
    data_keys = MapAttribute(default=dict)
    # Set by erasure, which also removes data_keys and every personal field: a tombstone.
    erased_at = UTCDateTimeAttribute(null=True)
    # Abuse limits: the ids of open WebSocket connections (added at connect, deleted at disconnect),
    # the conversation last opened (a new one only once it is closed), and those opened this hour.
    connection_ids = UnicodeSetAttribute(null=True)
    open_conversation_id = UnicodeAttribute(null=True)
    opened_window = NumberAttribute(null=True)
    opened_in_window = NumberAttribute(null=True)


class VisitorIdentityModel(Model):
    """A verified user id's one visitor in a tenant: created with the visitor (conditional), deleted by
    erasure. Keyed by a digest, so the table never holds the tenant's user ids themselves."""
    Meta = _meta("visitor-identities")
    tenant_id = UnicodeAttribute(hash_key=True)
    user_digest = UnicodeAttribute(range_key=True)
    visitor_id = UnicodeAttribute()
    created_at = UTCDateTimeAttribute()


class FaqModel(Model):
    Meta = _meta("faq")
    tenant_id = UnicodeAttribute(hash_key=True)
    faq_id = UnicodeAttribute(range_key=True)
    question = UnicodeAttribute()
    answer = UnicodeAttribute()
    keywords = ListAttribute(of=UnicodeAttribute, default=list)
    created_at = UTCDateTimeAttribute()
    updated_at = UTCDateTimeAttribute()


class CannedResponseModel(Model):
    Meta = _meta("canned-responses")
    tenant_id = UnicodeAttribute(hash_key=True)
    # Stored without the leading slash agents type; also the canned response's id.
    shortcut = UnicodeAttribute(range_key=True)
    text = UnicodeAttribute()
    created_at = UTCDateTimeAttribute()
    updated_at = UTCDateTimeAttribute()


class ConnectionPrincipalIndex(GlobalSecondaryIndex):
    class Meta:
        index_name = "principal-index"
        projection = KeysOnlyProjection()

    principal = UnicodeAttribute(hash_key=True)
    connection_id = UnicodeAttribute(range_key=True)


class ConnectionModel(Model):
    Meta = _meta("connections")
    connection_id = UnicodeAttribute(hash_key=True)
    # "{tenant_id}#{kind}#{id}": every open connection of one agent or visitor.
    principal = UnicodeAttribute()
    tenant_id = UnicodeAttribute()
    kind = UnicodeAttribute()
    principal_id = UnicodeAttribute()
    role = UnicodeAttribute(null=True)
    name = UnicodeAttribute(null=True)  # shown as the sender of this party's messages
    # An agent's: the login it belongs to (logout closes only its sockets) and the agent's
    # session_version then (a role-dependent action checks it still holds).
    session_id = UnicodeAttribute(null=True)
    session_version = NumberAttribute(null=True)
    connected_at = UTCDateTimeAttribute()
    # API Gateway ends a connection after 2 hours; TTL sweeps records a lost $disconnect left.
    expires_at = TTLAttribute()
    # The second of its latest frame; that second's count is in one of frame_0..frame_6, which only
    # ratelimit.count_frame reads and writes (the read of every frame counts it).
    frame_window = NumberAttribute(null=True)
    principal_index = ConnectionPrincipalIndex()


class QueueIndex(GlobalSecondaryIndex):
    class Meta:
        index_name = "queue-index"
        projection = IncludeProjection(["visitor_id"])

    queue_key = UnicodeAttribute(hash_key=True)
    queue_sort = UnicodeAttribute(range_key=True)


class VisitorConversationsIndex(GlobalSecondaryIndex):
    class Meta:
        index_name = "visitor-index"
        projection = AllProjection()

    visitor_key = UnicodeAttribute(hash_key=True)
    created_at = UTCDateTimeAttribute(range_key=True)


class AgentConversationsIndex(GlobalSecondaryIndex):
    class Meta:
        index_name = "agent-index"
        projection = AllProjection()

    agent_key = UnicodeAttribute(hash_key=True)
    created_at = UTCDateTimeAttribute(range_key=True)


class DueIndex(GlobalSecondaryIndex):
    class Meta:
        index_name = "due-index"
        projection = KeysOnlyProjection()

    due_shard = UnicodeAttribute(hash_key=True)
    due_at = UTCDateTimeAttribute(range_key=True)


class RetentionIndex(GlobalSecondaryIndex):
    class Meta:
        index_name = "retention-index"
        projection = KeysOnlyProjection()

    retention_key = UnicodeAttribute(hash_key=True)
    closed_at = UTCDateTimeAttribute(range_key=True)


class SurveyDueIndex(GlobalSecondaryIndex):
    class Meta:
        index_name = "survey-index"
        projection = KeysOnlyProjection()

    survey_shard = UnicodeAttribute(hash_key=True)
    survey_due_at = UTCDateTimeAttribute(range_key=True)


class ConversationModel(Model):
    Meta = _meta("conversations")
    tenant_id = UnicodeAttribute(hash_key=True)
    conversation_id = UnicodeAttribute(range_key=True)
    visitor_id = UnicodeAttribute()
    visitor_key = UnicodeAttribute()  # "{tenant_id}#{visitor_id}"
    status = UnicodeAttribute()  # bot | queued | assigned | closed
    team = UnicodeAttribute(null=True)
    priority = NumberAttribute(default=0)
    agent_id = UnicodeAttribute(null=True)
    agent_key = UnicodeAttribute(null=True)  # "{tenant_id}#{agent_id}" once assigned
    # Present only while queued (sparse queue-index).
    queue_key = UnicodeAttribute(null=True)
    queue_sort = UnicodeAttribute(null=True)
    # Present only while assigned and unanswered (sparse due-index).
    due_shard = UnicodeAttribute(null=True)
    due_at = UTCDateTimeAttribute(null=True)
    skip_agents = ListAttribute(of=UnicodeAttribute, default=list)  # agents it was taken from
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
    data_keys = MapAttribute(default=dict)
    # Present (= tenant_id) from close until retention shreds it (sparse retention-index).
    retention_key = UnicodeAttribute(null=True)
    shredded_at = UTCDateTimeAttribute(null=True)
    # Present from close until send-surveys has dealt with it (sparse survey-index).
    survey_shard = UnicodeAttribute(null=True)
    survey_due_at = UTCDateTimeAttribute(null=True)
    # Each party's messages in the current one-second window, "window#count": the send transaction
    # (conditioned on last_seq) keeps it exact at no extra request (the messages-per-second limit).
    visitor_burst = UnicodeAttribute(null=True)
    agent_burst = UnicodeAttribute(null=True)
    # True while it counts in its tenant's open_visitor_conversations (removed in the closing write).
    counted_open = BooleanAttribute(null=True)
    queue_index = QueueIndex()
    visitor_index = VisitorConversationsIndex()
    agent_index = AgentConversationsIndex()
    due_index = DueIndex()
    retention_index = RetentionIndex()
    survey_index = SurveyDueIndex()


class MessageModel(Model):
    Meta = _meta("messages")
    conversation_key = UnicodeAttribute(hash_key=True)  # "{tenant_id}#{conversation_id}"
    seq = NumberAttribute(range_key=True)
    sender_kind = UnicodeAttribute()  # visitor | agent | bot | system
    sender_id = UnicodeAttribute()
    # Staff and bot names only: a visitor's name lives on their profile alone, so erasure reaches it.
    sender_name = UnicodeAttribute(null=True)
    # nonce || AES-256-GCM ciphertext of the text under the conversation key; never the text itself.
    sealed = BinaryAttribute(legacy_encoding=False)
    key_version = NumberAttribute()  # which of the conversation's data_keys sealed it
    client_msg_id = UnicodeAttribute(null=True)
    sent_at = UTCDateTimeAttribute()


class MessageIdModel(Model):
    Meta = _meta("message-ids")
    conversation_key = UnicodeAttribute(hash_key=True)
    client_msg_id = UnicodeAttribute(range_key=True)
    seq = NumberAttribute()


class RosterAvailableIndex(GlobalSecondaryIndex):
    class Meta:
        index_name = "available-index"
        projection = KeysOnlyProjection()

    team_key = UnicodeAttribute(hash_key=True)
    available_sort = UnicodeAttribute(range_key=True)


class RosterModel(Model):
    Meta = _meta("roster")
    team_key = UnicodeAttribute(hash_key=True)  # "{tenant_id}#{team}" or "{tenant_id}#*"
    agent_id = UnicodeAttribute(range_key=True)
    # "{load:02d}#{idle_since}#{agent_id}" while online below capacity; absent otherwise.
    available_sort = UnicodeAttribute(null=True)
    available_index = RosterAvailableIndex()


class RateLimitModel(Model):
    Meta = _meta("rate-limits")
    bucket = UnicodeAttribute(hash_key=True)
    hits = NumberAttribute(default=0)
    expires_at = TTLAttribute()


class LoginFailureDueIndex(GlobalSecondaryIndex):
    class Meta:
        index_name = "due-index"
        projection = KeysOnlyProjection()

    due_shard = UnicodeAttribute(hash_key=True)
    due_at = UTCDateTimeAttribute(range_key=True)


class LoginFailureModel(Model):
    """Failed logins (tenancy/login_throttle.py), two kinds of item by key:
    "source#<digest of tenant, email, source address>": failures from one source, and the time before
    which its next attempt is refused; "window#<tenant>#<target>#<start>": one account's failures in one
    window, due (sparse due-index) for its one aggregated audit event once the window is over."""
    Meta = _meta("login-failures")
    key = UnicodeAttribute(hash_key=True)
    failures = NumberAttribute(default=0)
    not_before = NumberAttribute(null=True)  # epoch seconds
    tenant_id = UnicodeAttribute(null=True)
    target = UnicodeAttribute(null=True)  # the agent id, or "unknown-account"
    window_start = UTCDateTimeAttribute(null=True)
    last_source = UnicodeAttribute(null=True)
    due_shard = UnicodeAttribute(null=True)
    due_at = UTCDateTimeAttribute(null=True)
    due_index = LoginFailureDueIndex()
    expires_at = TTLAttribute()


# --- Surveys and follow-ups (docs/surveys.md) ------------------------------------------------
class SurveyModel(Model):
    """One per conversation: created when send-surveys claims it, answered at most once."""
    Meta = _meta("surveys")
    tenant_id = UnicodeAttribute(hash_key=True)
    conversation_id = UnicodeAttribute(range_key=True)
    agent_id = UnicodeAttribute(null=True)  # who held the conversation when the survey was sent
    conversation_created_at = UTCDateTimeAttribute()  # the report hour the answer counts in
    sent_at = UTCDateTimeAttribute()
    channel = UnicodeAttribute()  # websocket | email | none
    expires_at = UTCDateTimeAttribute()
    rating = NumberAttribute(null=True)
    # The visitor's comment, sealed under the conversation's key like their messages (never plaintext).
    comment_sealed = BinaryAttribute(legacy_encoding=False, null=True)
    comment_key_version = NumberAttribute(null=True)
    answered_at = UTCDateTimeAttribute(null=True)


class FollowUpModel(Model):
    """A task for supervisors: a conversation closed unresolved, or rated 1 or 2."""
    Meta = _meta("follow-ups")
    tenant_id = UnicodeAttribute(hash_key=True)
    follow_up_id = UnicodeAttribute(range_key=True)  # "{conversation_id}.{reason}": one per reason
    conversation_id = UnicodeAttribute()
    reason = UnicodeAttribute()  # unresolved | low_rating
    agent_id = UnicodeAttribute(null=True)
    rating = NumberAttribute(null=True)
    status = UnicodeAttribute()  # open | closed
    created_at = UTCDateTimeAttribute()
    closed_at = UTCDateTimeAttribute(null=True)
    closed_by = JSONAttribute(null=True)
    note = UnicodeAttribute(null=True)


class EmailSuppressionModel(Model):
    """An address no email may go to: from every tenant (scope "*": it bounced or its owner complained) or
    from one tenant (scope: the tenant id, the owner unsubscribed). Keyed by address, not tenant, because
    a bounce is about the address; the address is a SHA-256 digest of it lower-cased, never the address."""
    Meta = _meta("email-suppressions")
    address_hash = UnicodeAttribute(hash_key=True)
    scope = UnicodeAttribute(range_key=True)
    reason = UnicodeAttribute()  # unsubscribe | bounce | complaint
    suppressed_at = UTCDateTimeAttribute()


class ReportCounterModel(Model):
    """Counters of one tenant and UTC hour ("2026-11-23T10"), or of one agent in it ("...T10#a#a_x").

    Only the keys are declared: the counters ("conversations", "frt_12", "csat_5"...) are named by the
    events that ADD to them, through the low-level client (chalicelib/reports/counters.py)."""
    Meta = _meta("report-counters")
    tenant_id = UnicodeAttribute(hash_key=True)
    bucket = UnicodeAttribute(range_key=True)


# --- Audit trail (docs/audit.md) -------------------------------------------------------------
class AuditTimeIndex(GlobalSecondaryIndex):
    """Events by time: ts never decreases along a tenant's seq, so a time range is a seq range.
    The sort key "{ts}#{seq:012d}" is unique, so events of the same second keep their order."""
    class Meta:
        index_name = "time-index"
        projection = KeysOnlyProjection()

    tenant_id = UnicodeAttribute(hash_key=True)
    ts_seq = UnicodeAttribute(range_key=True)


class AuditEventModel(Model):
    """One link of a tenant's hash chain, exactly as exported (chalicelib/audit/chain.py)."""
    Meta = _meta("audit-events")
    tenant_id = UnicodeAttribute(hash_key=True)
    seq = NumberAttribute(range_key=True)
    ts = UnicodeAttribute()  # ISO 8601 UTC, to the second
    # JSON text, not maps: what is hashed comes back byte for byte (no Decimal, no reordering).
    actor = JSONAttribute()
    action = UnicodeAttribute()
    target = UnicodeAttribute()
    details = JSONAttribute()
    prev_hash = UnicodeAttribute()
    hash = UnicodeAttribute()
    ts_seq = UnicodeAttribute()  # not part of the event: the time-index's sort key
    time_index = AuditTimeIndex()

    @classmethod
    def of(cls, tenant_id: str, event: dict) -> "AuditEventModel":
        return cls(tenant_id, **event, ts_seq=f"{event['ts']}#{event['seq']:012d}")


class AuditChainModel(Model):
    """The head of a tenant's chain: every append is a transaction conditioned on it."""
    Meta = _meta("audit-chains")
    tenant_id = UnicodeAttribute(hash_key=True)
    last_seq = NumberAttribute()
    last_hash = UnicodeAttribute()
    last_ts = UnicodeAttribute()


class AuditDigestModel(Model):
    """A signed checkpoint written by audit-verify; each chains to the one before."""
    Meta = _meta("audit-digests")
    tenant_id = UnicodeAttribute(hash_key=True)
    seq = NumberAttribute(range_key=True)  # 1, 2, 3, ... per tenant
    digest = JSONAttribute()
    digest_hash = UnicodeAttribute()  # SHA-256 of canonical(digest): the next digest's prev_digest_hash
    algorithm = UnicodeAttribute()
    key_id = UnicodeAttribute()
    signature = UnicodeAttribute()


class AuditAlarmModel(Model):
    """A break audit-verify found, once per broken seq."""
    Meta = _meta("audit-alarms")
    tenant_id = UnicodeAttribute(hash_key=True)
    broken_seq = NumberAttribute(range_key=True)
    reason = UnicodeAttribute()
    detected_at = UTCDateTimeAttribute()
    checkpoint_seq = NumberAttribute()  # the last event a signed digest vouches for


class AuditExportModel(Model):
    Meta = _meta("audit-exports")
    tenant_id = UnicodeAttribute(hash_key=True)
    export_id = UnicodeAttribute(range_key=True)
    status = UnicodeAttribute()  # pending | ready | failed
    range_from = UnicodeAttribute()
    range_to = UnicodeAttribute()
    requested_by = JSONAttribute()
    created_at = UTCDateTimeAttribute()
    finished_at = UTCDateTimeAttribute(null=True)
    s3_key = UnicodeAttribute(null=True)
    sha256 = UnicodeAttribute(null=True)
    event_count = NumberAttribute(null=True)
    size_bytes = NumberAttribute(null=True)
    # Set when the exported events do not form an intact chain (the file still holds them as stored).
    broken_seq = NumberAttribute(null=True)
    error = UnicodeAttribute(null=True)


ALL_MODELS: tuple[type[Model], ...] = (
    TenantModel, AgentModel, CredentialModel, ApiKeyModel, VisitorModel, VisitorIdentityModel,
    AgentSessionModel, LoginFailureModel,
    ConnectionModel, RateLimitModel, ConversationModel, MessageModel, MessageIdModel, RosterModel,
    FaqModel, CannedResponseModel,
    AuditEventModel, AuditChainModel, AuditDigestModel, AuditAlarmModel, AuditExportModel,
    SurveyModel, FollowUpModel, ReportCounterModel, EmailSuppressionModel,
)
