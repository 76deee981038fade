"""The shape of a tenant's settings: stored whole on the tenant item and returned whole.

Every capability that acts on a setting (routing, hours, surveys, retention, origins) reads it
through this model; PUT /v1/settings (tenancy) validates a change against it.
"""
from __future__ import annotations

import re
from typing import Annotated, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, ValidationInfo, field_validator

from ..i18n import Locale, text

# The most any tenant may allow per file: a download is fetched in ranges (docs/attachments.md), and the
# check seals a whole file in one invocation.
MAX_ATTACHMENT_BYTES = 25 * 1024 * 1024
Day = Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
_HHMM = re.compile(r"^([01]\d|2[0-3]):[0-5]\d$|^24:00$")


def _check_timezone(name: str) -> str:
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"unknown time zone {name!r}") from None
    return name


def _check_ranges(ranges: list[list[str]]) -> list[list[str]]:
    for pair in ranges:
        if len(pair) != 2 or not all(_HHMM.match(t) for t in pair):
            raise ValueError('each range is ["HH:MM", "HH:MM"]')
        if pair[0] >= pair[1]:
            raise ValueError("a range must end after it starts")
    return ranges


def _check_origin(origin: str) -> str:
    if not re.match(r"^https?://[A-Za-z0-9.\-]+(:\d{1,5})?$", origin):
        raise ValueError("an origin is scheme://host[:port] with no path")
    return origin.lower()


def _tidy_phrase(phrase: str) -> str:
    tidy = " ".join(phrase.split())
    if not re.search(r"\w", tidy):
        raise ValueError("a handoff phrase needs a letter, a digit or a CJK character")
    return tidy


def _distinct_phrases(phrases: list[str]) -> list[str]:
    folded = [phrase.casefold() for phrase in phrases]
    if len(set(folded)) != len(folded):
        raise ValueError("each handoff phrase once")
    return phrases


def _check_prechat(fields: list[PrechatField]) -> list[PrechatField]:
    if len({entry.field for entry in fields}) != len(fields):
        raise ValueError("each pre-chat field may appear once")
    return fields


Timezone = Annotated[str, Field(max_length=64), AfterValidator(_check_timezone)]
AttachmentsMaxBytes = Annotated[int, Field(ge=1024, le=MAX_ATTACHMENT_BYTES)]
DayRanges = Annotated[list[list[str]], Field(max_length=12), AfterValidator(_check_ranges)]
BusinessHours = dict[Day, DayRanges]
Origin = Annotated[str, Field(max_length=200), AfterValidator(_check_origin)]
HandoffPhrase = Annotated[str, Field(min_length=1, max_length=40), AfterValidator(_tidy_phrase)]
HandoffPhrases = Annotated[list[HandoffPhrase], Field(max_length=50), AfterValidator(_distinct_phrases)]
# What a visitor writes to leave the bot for a person, until the tenant says otherwise: English
# words, and the Chinese "人工" (a human, as in 转人工) and "客服" (customer service).
DEFAULT_HANDOFF_PHRASES = ("human", "agent", "person", "operator", "representative", "someone", "人工", "客服")
# Settings stored before the catalogs hold Switchboard's English defaults word for word (settings are
# stored whole): those read as null, Switchboard's text in each visitor's language.
_FORMER_DEFAULTS = {
    "offline_message": "We're away right now. Leave a message and we'll reply as soon as we're back.",
    "survey_question": "How would you rate this conversation?"}


class PrechatField(BaseModel):
    """One question of the widget's pre-chat form."""
    model_config = ConfigDict(extra="forbid", strict=True)

    field: Literal["name", "email"]
    required: bool = False


# The tenant's own words in the widget, in each language it serves: a language left out shows the
# widget's built-in text in that language (a Chinese visitor never reads the English greeting).
Greeting = dict[Locale, Annotated[str, Field(min_length=1, max_length=300)]]
LauncherText = dict[Locale, Annotated[str, Field(min_length=1, max_length=40)]]
Color = Annotated[str, Field(pattern=r"^#[0-9A-Fa-f]{6}$"), AfterValidator(str.lower)]


class WidgetStyle(BaseModel):
    """How the widget looks on the tenant's pages (GET /v1/widget/{widget_key}/config serves it)."""
    model_config = ConfigDict(extra="forbid", strict=True, str_strip_whitespace=True)

    color: Color = Field(default="#1f5fbf", description="#rrggbb; the widget writes black or white on it, "
                                                        "whichever contrasts more")
    position: Literal["bottom-right", "bottom-left"] = "bottom-right"
    greeting: Greeting = Field(default_factory=dict, description='{"en": ..., "zh-CN": ...}; a language '
                                                                 "left out gets the widget's own greeting")
    launcher_text: LauncherText = Field(default_factory=dict, description="the bubble's words, per language")
    prechat_fields: Annotated[list[PrechatField], Field(max_length=2), AfterValidator(_check_prechat)] = Field(
        default_factory=list, description='asked before a chat starts: [{"field": "name"|"email", "required": bool}]')


class Settings(BaseModel):
    """A tenant's settings, always stored and returned whole."""
    model_config = ConfigDict(extra="forbid")

    timezone: Timezone = "UTC"
    business_hours: BusinessHours | None = Field(
        default=None, description='null = always open; else {"mon": [["09:00","17:30"]], ..., "sun": []}')
    offline_message: Annotated[str, Field(max_length=1000)] | None = Field(
        default=None, description="null = Switchboard's own, in the visitor's language (en: \"We're away right "
                                  "now. Leave a message and we'll reply as soon as we're back.\"); "
                                  "else the tenant's text, sent as written")
    bot_enabled: bool = True
    handoff_phrases: HandoffPhrases = Field(
        default_factory=lambda: list(DEFAULT_HANDOFF_PHRASES),
        description="what a visitor writes to be handed from the bot to a person: a phrase with a CJK "
                    "character is found anywhere in the message, spaces ignored; any other as whole words "
                    "(\"agent\" is not in \"agents\"); [] = only the widget's button hands over")
    first_response_timeout_seconds: Annotated[int, Field(ge=5, le=86400)] = 120
    sla_first_response_seconds: Annotated[int, Field(ge=1, le=86400)] = 60
    sla_alerts_enabled: bool = Field(
        default=True, description="email the admins when a conversation waits past sla_first_response_seconds "
                                  "with no agent online (once per conversation; docs/alerts.md)")
    survey_enabled: bool = True
    survey_delay_seconds: Annotated[int, Field(ge=0, le=7 * 86400)] = 300
    survey_question: Annotated[str, Field(min_length=1, max_length=300)] | None = Field(
        default=None, description="null = Switchboard's own, in the visitor's language (en: \"How would you "
                                  "rate this conversation?\"); else the tenant's question, asked as written")
    retention_days: Annotated[int, Field(ge=1, le=3650)] = 365
    allowed_origins: Annotated[list[Origin], Field(max_length=50)] = Field(
        default_factory=list, description="[] = any origin")
    totp_required: bool = Field(
        default=False, description="staff must sign in with two-factor; those not enrolled are walked "
                                   "through enrolment at their next login (API keys are unaffected)")
    remember_device_days: Annotated[int, Field(ge=0, le=90)] = Field(
        default=30, description="how long a device remembered at a two-factor login skips the code; 0 = never")
    default_locale: Locale = Field(
        default="en", description="the language of the widget and of visitor texts when neither the page "
                                  "(data-locale) nor the visitor's browser names one Switchboard speaks")
    widget: WidgetStyle = Field(default_factory=WidgetStyle, description="replaced whole by PUT /v1/settings")
    attachments_max_bytes: AttachmentsMaxBytes = Field(
        default=10 * 1024 * 1024, description="the largest file a visitor or agent may attach, in bytes "
                                              f"(1 KiB .. {MAX_ATTACHMENT_BYTES // (1024 * 1024)} MiB)")
    identity_verification: bool = Field(
        default=False, description="read-only: an identity secret is set (POST /v1/identity-secret); "
                                   "the secret itself is never shown again")
    inbound_email_address: str | None = Field(
        default=None, description="read-only: mail to this address opens or continues an email conversation "
                                  "(docs/email.md); never stored, derived from the tenant id")

    @field_validator("offline_message", "survey_question", mode="before")
    @classmethod
    def _former_default_is_ours(cls, value: object, info: ValidationInfo) -> object:
        return None if value == _FORMER_DEFAULTS[info.field_name or ""] else value

    def offline_text(self, locale: Locale) -> str:
        """What a visitor reads when they write outside business hours."""
        return text(locale, "system.offline_message") if self.offline_message is None else self.offline_message

    def survey_text(self, locale: Locale) -> str:
        """The question a survey asks a visitor."""
        return text(locale, "system.survey_question") if self.survey_question is None else self.survey_question
