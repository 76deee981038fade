"""Request and response models for tenants, auth, agents, API keys, settings and rotations."""
from __future__ import annotations

from typing import Annotated, ClassVar, Literal

from pydantic import Field

from ..i18n import Locale
from ..storage.settings import AttachmentsMaxBytes, BusinessHours, HandoffPhrases, Origin, Timezone, WidgetStyle
from ..web.schemas import Email, Input, Output, Page, PatchInput, Team

Role = Literal["admin", "supervisor", "agent", "compliance"]
Presence = Literal["online", "away", "offline"]
Id = Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_\-]+$")]
Name = Annotated[str, Field(min_length=1, max_length=100)]
Password = Annotated[str, Field(min_length=8, max_length=256)]
TotpCode = Annotated[str, Field(pattern=r"^[0-9]{6}$", description="the 6 digits an authenticator app shows")]
RecoveryCode = Annotated[str, Field(min_length=1, max_length=64,
                                    description="one of the recovery codes shown at enrolment (dashes optional)")]


class AgentRef(Output):
    agent_id: str
    email: str


class SignupIn(Input):
    name: Name
    admin_email: Email
    admin_password: Password


class SignupOut(Output):
    tenant_id: str
    api_key: str = Field(description="Shown once; only its SHA-256 is stored.")
    widget_key: str
    admin: AgentRef


class LoginIn(Input):
    tenant_id: Id
    email: Email
    password: Annotated[str, Field(min_length=1, max_length=256)]
    totp_code: TotpCode | None = None
    recovery_code: RecoveryCode | None = None
    remember_device: bool = Field(default=False, description="after a code is accepted: return a device_token "
                                                             "that skips the code for this agent for a while")
    device_token: Annotated[str, Field(min_length=1, max_length=128)] | None = Field(
        default=None, description="a device_token an earlier two-factor login of this agent returned")


class AgentOut(Output):
    agent_id: str
    email: str
    name: str
    role: Role
    teams: list[str]
    max_concurrent: int
    tier: int
    active: bool
    status: Presence = Field(default="offline", description="presence now: what the agent set while connected "
                                                            "(kept through a short reconnect grace); a "
                                                            "deactivated agent is offline")
    load: int = Field(default=0, description="conversations the agent holds now")
    locale: Locale | None = Field(default=None, description="the agent's own console language; null: the browser's")
    created_at: str
    updated_at: str


class LoginOut(Output):
    token: str
    expires_at: str
    session_expires_at: str = Field(description="The session's absolute end: no refresh reaches past it")
    ws_url: str = Field(description="WebSocket URL to connect to with ?token=")
    agent: AgentOut
    totp_enrolment_required: bool = Field(
        default=False, description="the tenant requires two-factor and this agent has none: this session may "
                                   "only enrol (POST /v1/auth/totp, /confirm), read /v1/me and log out")
    device_token: str | None = Field(default=None, description="with remember_device: shown once; send it "
                                                               "at later logins to skip the code")
    device_expires_at: str | None = None


class RefreshOut(Output):
    token: str
    expires_at: str
    session_expires_at: str = Field(description="The session's absolute end: no refresh reaches past it")


class MeOut(Output):
    kind: Literal["agent", "api_key", "visitor"]
    tenant_id: str
    role: Role | None
    agent: AgentOut | None = None
    key_id: str | None = None
    visitor_id: str | None = None
    totp_enrolment_required: bool = Field(
        default=False, description="this session may only enrol in two-factor sign-in, read /v1/me and log out")


class MePatch(PatchInput):
    """PATCH /v1/me: what an agent sets for themself."""
    nullable: ClassVar[frozenset[str]] = frozenset({"locale"})
    locale: Locale | None = Field(default=None, description="the console's language for this agent; null: "
                                                            "follow the browser")


class AgentIn(Input):
    email: Email
    name: Name
    password: Password
    role: Role
    teams: Annotated[list[Team], Field(max_length=20)] = []
    max_concurrent: Annotated[int, Field(ge=1, le=20)] = 5
    tier: Annotated[int, Field(ge=1, le=100)] = 1


class AgentPatch(PatchInput):
    email: Email | None = None
    name: Name | None = None
    password: Password | None = None
    role: Role | None = None
    teams: Annotated[list[Team], Field(max_length=20)] | None = None
    max_concurrent: Annotated[int, Field(ge=1, le=20)] | None = None
    tier: Annotated[int, Field(ge=1, le=100)] | None = None
    active: bool | None = Field(default=None, description="true reactivates a deactivated agent")


class AgentList(Page):
    items: list[AgentOut]


class ApiKeyIn(Input):
    name: Name
    role: Role


class ApiKeyOut(Output):
    key_id: str
    name: str
    role: Role
    created_at: str
    revoked_at: str | None = None


class ApiKeyCreated(ApiKeyOut):
    api_key: str = Field(description="Shown once; only its SHA-256 is stored.")


class ApiKeyList(Page):
    items: list[ApiKeyOut]


class SettingsPatch(PatchInput):
    """PUT /v1/settings may send any subset; what it sends is validated as the whole would be."""
    nullable: ClassVar[frozenset[str]] = frozenset({"business_hours", "offline_message", "survey_question"})

    timezone: Timezone | None = None
    business_hours: BusinessHours | None = None
    offline_message: Annotated[str, Field(max_length=1000)] | None = None
    bot_enabled: bool | None = None
    handoff_phrases: HandoffPhrases | None = None
    first_response_timeout_seconds: Annotated[int, Field(ge=5, le=86400)] | None = None
    sla_first_response_seconds: Annotated[int, Field(ge=1, le=86400)] | None = None
    survey_enabled: bool | None = None
    survey_delay_seconds: Annotated[int, Field(ge=0, le=7 * 86400)] | None = None
    survey_question: Annotated[str, Field(min_length=1, max_length=300)] | None = None
    retention_days: Annotated[int, Field(ge=1, le=3650)] | None = None
    allowed_origins: Annotated[list[Origin], Field(max_length=50)] | None = None
    totp_required: bool | None = None
    remember_device_days: Annotated[int, Field(ge=0, le=90)] | None = None
    default_locale: Locale | None = None
    widget: WidgetStyle | None = None
    attachments_max_bytes: AttachmentsMaxBytes | None = None


# --- Rotations ----------------------------------------------------------------------------
class IdentitySecretOut(Output):
    identity_secret: str = Field(description="Shown once: compute user_hash with it on your server; "
                                             "stored only wrapped by the tenant's data key")
    rotated_at: str


class WidgetKeyOut(Output):
    widget_key: str = Field(description="The new key; the old one stops working at once")
