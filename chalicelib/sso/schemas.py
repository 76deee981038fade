"""The edge's models for single sign-on."""
from __future__ import annotations

from typing import Annotated

from pydantic import ConfigDict, Field

from ..tenancy.schemas import Id
from ..web.schemas import Email, Input, Output, QueryInput

Url = Annotated[str, Field(min_length=8, max_length=500, pattern=r"^https?://[^\s#?]+$")]
Opaque = Annotated[str, Field(min_length=1, max_length=2048)]


class SsoIn(Input):
    issuer: Url = Field(description="Exactly the issuer its discovery document names, e.g. https://accounts.google.com")
    client_id: Annotated[str, Field(min_length=1, max_length=256)]
    client_secret: Annotated[str | None, Field(min_length=1, max_length=1024)] = Field(
        default=None, description="Stored wrapped by a tenant key, never shown again. Leave it out to keep "
                                  "the secret already registered (same issuer and client id).")
    sso_only: bool = Field(default=False, description="Staff other than admins must sign in with single sign-on")


class SsoOut(Output):
    issuer: str
    client_id: str
    sso_only: bool
    redirect_uri: str = Field(description="Register this as the redirect URI of the client at the issuer")
    updated_at: str


class StartQuery(QueryInput):
    tenant_id: Id
    email: Email | None = Field(default=None, description="Passed to the issuer as login_hint")


class CallbackQuery(QueryInput):
    """What the issuer sends the browser back with (OAuth 2.0, RFC 6749 4.1.2; RFC 9207's iss). Issuers add
    parameters of their own (Google's authuser, hd, prompt; Entra's and Keycloak's session_state): they are
    ignored rather than refused, so a browser never lands on a JSON error for them."""
    model_config = ConfigDict(extra="ignore", str_strip_whitespace=True, defer_build=True)
    code: Opaque | None = None
    state: Opaque | None = None
    error: Opaque | None = None
    error_description: Opaque | None = None
    iss: Opaque | None = None


class RedeemIn(Input):
    code: Annotated[str, Field(min_length=1, max_length=200)]
