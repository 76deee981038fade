"""Staff: agents, their credentials, login sessions and failed logins, API keys, and the routing roster."""
from __future__ import annotations

from pynamodb.attributes import BooleanAttribute, NumberAttribute, TTLAttribute, UnicodeAttribute, UTCDateTimeAttribute
from pynamodb.indexes import GlobalSecondaryIndex, KeysOnlyProjection

from .base import TableModel, string_list, table_meta


class AgentLapseIndex(GlobalSecondaryIndex["AgentModel"]):
    class Meta:
        index_name = "lapse-index"
        projection = KeysOnlyProjection()

    lapse_shard = UnicodeAttribute(hash_key=True)
    lapse_at = UTCDateTimeAttribute(range_key=True)


class AgentModel(TableModel):
    Meta = table_meta("agents")
    tenant_id = UnicodeAttribute(hash_key=True)
    agent_id = UnicodeAttribute(range_key=True)
    email = UnicodeAttribute()
    name = UnicodeAttribute()
    role = UnicodeAttribute()
    teams = string_list()
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
    # The agent's own language for the console ("en", "zh-CN"); absent: the browser's (PATCH /v1/me).
    locale = UnicodeAttribute(null=True)
    created_at = UTCDateTimeAttribute()
    updated_at = UTCDateTimeAttribute()


class CredentialModel(TableModel):
    Meta = table_meta("credentials")
    tenant_id = UnicodeAttribute(hash_key=True)
    email = UnicodeAttribute(range_key=True)
    agent_id = UnicodeAttribute()
    password_hash = UnicodeAttribute()


class AgentSessionModel(TableModel):
    """One login of an agent (access/sessions.py): its tokens carry the session id and work only
    while this item exists and has not reached expires_at, the session's absolute end. Logout deletes it."""
    Meta = table_meta("agent-sessions")
    tenant_id = UnicodeAttribute(hash_key=True)
    session_id = UnicodeAttribute(range_key=True)
    agent_id = UnicodeAttribute()
    created_at = UTCDateTimeAttribute()
    expires_at = TTLAttribute()
    # Set on a login that owes two-factor enrolment (the tenant requires it): such a session may only
    # enrol, read /v1/me and log out; confirming enrolment removes it (tenancy/two_factor/).
    enrolment_only = BooleanAttribute(null=True)


class ApiKeyModel(TableModel):
    Meta = table_meta("api-keys")
    tenant_id = UnicodeAttribute(hash_key=True)
    key_id = UnicodeAttribute(range_key=True)
    name = UnicodeAttribute()
    role = UnicodeAttribute()
    secret_sha256 = UnicodeAttribute()
    created_at = UTCDateTimeAttribute()
    created_by = UnicodeAttribute(null=True)
    revoked_at = UTCDateTimeAttribute(null=True)


class RosterAvailableIndex(GlobalSecondaryIndex["RosterModel"]):
    class Meta:
        index_name = "available-index"
        projection = KeysOnlyProjection()

    team_key = UnicodeAttribute(hash_key=True)
    available_sort = UnicodeAttribute(range_key=True)


class RosterModel(TableModel):
    Meta = table_meta("roster")
    team_key = UnicodeAttribute(hash_key=True)  # "{tenant_id}#{team}" or "{tenant_id}#*"
    agent_id = UnicodeAttribute(range_key=True)
    # "{load:02d}#{idle_since}#{agent_id}" while online below capacity; absent otherwise.
    available_sort = UnicodeAttribute(null=True)
    available_index = RosterAvailableIndex()


class LoginFailureDueIndex(GlobalSecondaryIndex["LoginFailureModel"]):
    class Meta:
        index_name = "due-index"
        projection = KeysOnlyProjection()

    due_shard = UnicodeAttribute(hash_key=True)
    due_at = UTCDateTimeAttribute(range_key=True)


class LoginFailureModel(TableModel):
    """Failed logins (tenancy/login_throttle.py), two kinds of item by key:
    "source#<digest of tenant, email, source address>": failures from one source, and the time before
    which its next attempt is refused; "window#<tenant>#<target>#<start>": one account's failures in one
    window, due (sparse due-index) for its one aggregated audit event once the window is over."""
    Meta = table_meta("login-failures")
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
