"""Request and response models for visitor profiles and widget sessions."""
from __future__ import annotations

import unicodedata
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BeforeValidator, Field, model_validator

from ..conversations.schemas import ConversationOut
from ..i18n import Locale
from ..storage.settings import WidgetStyle
from ..web.schemas import Email, Input, Output, PatchInput, Team


def _as_tag(value: object) -> object:
    """A tag in one form however it was typed: NFKC (full-width letters and digits, the ideographic
    space and other compatibility forms become the plain ones), runs of spaces made one, Latin letters
    case-folded. Other scripts stay as written: Chinese has no case and a tag is never split into words."""
    if not isinstance(value, str):
        return value
    plain = " ".join(unicodedata.normalize("NFKC", value).split())
    folded = "".join(ch.casefold() if unicodedata.name(ch, "").startswith("LATIN") else ch for ch in plain)
    return unicodedata.normalize("NFKC", folded)


def _composed(value: object) -> object:
    """Notes are prose: NFC (one encoding of each character, so a search finds what was typed) and not
    NFKC, which would turn Chinese full-width punctuation (，。！) into ASCII."""
    return unicodedata.normalize("NFC", value) if isinstance(value, str) else value


Tag = Annotated[str, BeforeValidator(_as_tag), Field(min_length=1, max_length=30, pattern=r"^[\w\- ]+$")]


def _unique_in_order(tags: list[str]) -> list[str]:
    return list(dict.fromkeys(tags))


Tags = Annotated[list[Tag], Field(max_length=20), AfterValidator(_unique_in_order)]
Notes = Annotated[str, BeforeValidator(_composed), Field(max_length=2000)]


class VisitorPatch(PatchInput):
    tags: Tags | None = Field(default=None, description="replaces the tags; duplicates are dropped")
    notes: Notes | None = Field(default=None, description='replaces the notes; "" clears them')


class PossibleMatch(Output):
    """An unverified hint: an email proves nothing, so this is never the same person's history."""
    visitor_id: str = Field(description="an earlier visitor who gave the same email")
    basis: Literal["same_email"] = "same_email"
    verified: Literal[False] = Field(default=False,
                                     description="always false: never merged, never shown to the visitor")


class VisitorProfile(Output):
    visitor_id: str
    name: str | None
    email: str | None
    locale: str | None
    team: str | None
    user_id: str | None = Field(default=None, description="the tenant's user id, verified by its identity secret")
    tags: list[str]
    notes: str
    possible_match: PossibleMatch | None = Field(
        default=None, description="UNVERIFIED: an earlier visitor with the same email (a hint only)")
    created_at: str
    last_seen_at: str
    erased_at: str | None = Field(default=None, description="set once erased: every personal field is gone")
    conversations: list[ConversationOut] = Field(description="this visitor's latest 20, newest first")


class ErasureOut(Output):
    visitor_id: str
    erased_at: str
    conversations_shredded: int = Field(description="conversations whose keys this request destroyed")


class SignedReceiptPart(Output):
    digest: dict[str, Any] = Field(description='the receipt: kind "erasure_receipt", the keys and records destroyed '
                                               "(`part` of `parts`; each part names some of the conversations)")
    algorithm: str
    key_id: str
    signature: str = Field(description="base64 DER ECDSA P-256 SHA-256 over the canonical JSON of digest")


class ErasureReceipt(SignedReceiptPart):
    """Signed with the audit key: save it as is for python -m chalicelib.transcripts.erasure_proof.
    Part 1 of the receipt; a receipt too large for one audit event has further parts."""
    further_parts: list[SignedReceiptPart] = Field(
        default_factory=list, description="parts 2.. of the receipt, in order (empty when it has one part)")


# --- Widget sessions ----------------------------------------------------------------------
class WidgetSessionIn(Input):
    name: Annotated[str, Field(min_length=1, max_length=100)] | None = None
    email: Email | None = None
    team: Team | None = None
    locale: Annotated[str, Field(min_length=2, max_length=35,
                                 pattern=r"^[A-Za-z]{2,3}([-_][A-Za-z0-9]{2,8})*$")] | None = None
    visitor_token: Annotated[str, Field(min_length=1, max_length=2048)] | None = Field(
        default=None, description="a token from an earlier session (expired ones too): resume that visitor, "
                                  "within SWITCHBOARD_VISITOR_SESSION_MAX_SECONDS of its first session")
    user_id: Annotated[str, Field(min_length=1, max_length=255)] | None = Field(
        default=None, description="the tenant's own user id, with user_hash: the user's one visitor")
    user_hash: Annotated[str, Field(pattern=r"^[0-9a-fA-F]{64}$")] | None = Field(
        default=None, description="hex HMAC-SHA256 of user_id under the tenant's identity secret; wrong: 401")

    @model_validator(mode="after")
    def _user_id_and_hash_together(self) -> WidgetSessionIn:
        if (self.user_id is None) != (self.user_hash is None):
            raise ValueError("user_id and user_hash come together")
        return self


class WidgetSessionOut(Output):
    visitor_id: str
    visitor_token: str
    ws_url: str
    expires_at: str
    returning: bool = Field(description="this is an earlier visitor: resumed with its own visitor_token, "
                                        "or a verified user_id seen before (never an email match)")
    open_conversation_id: str | None = Field(
        description="the visitor's conversation that is not closed (resume it with messages.sync); "
                    "always null for a new visitor")


class WidgetConfig(WidgetStyle):
    """What the widget reads before a chat starts (GET /v1/widget/{widget_key}/config)."""
    default_locale: Locale = Field(description="the widget's language when neither the page (data-locale) "
                                               "nor the browser names one Switchboard speaks")
    open: bool = Field(description="within business hours now: else the widget shows the offline form, and a "
                                   "message sent waits in the queue")
    offline_message: str | None = Field(description="the tenant's own offline text; null: the widget's own, "
                                                    "in the visitor's language")
    survey_question: str | None = Field(description="the tenant's own survey question; null: the widget's own")
    attachments_max_bytes: int = Field(description="the largest file a visitor may attach, in bytes")
    attachment_types: list[str] = Field(description="the media types a file may have (checked again from its bytes)")


class WidgetEmbed(Output):
    """GET /v1/widget-embed: what the admin's Widget screen shows for pasting into the tenant's pages."""
    widget_key: str
    script_url: str = Field(description="the widget's script, to load as a module with data-widget-key")


# --- Access exports (the right of access) -------------------------------------------------
class AccessExportAccepted(Output):
    export_id: str


class AccessExportStatus(Output):
    export_id: str
    visitor_id: str
    status: Literal["pending", "ready", "failed"]
    created_at: str
    finished_at: str | None = None
    expires_at: str = Field(description="the bundle is deleted then (7 days after the request)")
    url: str | None = Field(default=None, description="the bundle's download route (ready only): GET it with "
                                                      "the same credentials; each download is audited")
    sha256: str | None = Field(default=None, description="of the zip the download answers")
    size_bytes: int | None = None
    error: str | None = None
    error_code: str | None = Field(default=None, description="bundle_too_large: more than the 4 MiB one answer holds")
