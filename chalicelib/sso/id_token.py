"""Verifying an ID token (OpenID Connect Core 1.0, 3.1.3.7) with joserfc: the signature against the
issuer's published keys (asymmetric algorithms only), then iss, aud (and azp), exp and iat with a small
leeway, the nonce this sign-in sent, and a verified email to match an agent by."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from joserfc import jwt
from joserfc.errors import (
    BadSignatureError,
    ExpiredTokenError,
    InvalidClaimError,
    InvalidKeyIdError,
    JoseError,
    MissingClaimError,
)

from ..runtime import runtime
from .provider import Provider, signing_keys

LEEWAY_SECONDS = 60
# An ID token issued longer ago than this is refused whatever its exp: a sign-in takes minutes.
MAX_AGE_SECONDS = 600


class TokenRejected(Exception):
    """The ID token fails a check; `reason` is the short code audited and shown (never token content)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class Identity:
    subject: str
    email: str


def verify(id_token: str, provider: Provider, client_id: str, nonce: str) -> Identity:
    claims = _verified_signature(id_token, provider)
    now = int(runtime().clock.now())
    registry = jwt.JWTClaimsRegistry(
        now=now, leeway=LEEWAY_SECONDS,
        iss={"essential": True, "value": provider.issuer}, aud={"essential": True, "value": client_id},
        sub={"essential": True}, exp={"essential": True}, iat={"essential": True})
    try:
        registry.validate(claims)
    except ExpiredTokenError:
        raise TokenRejected("token_expired") from None
    except (InvalidClaimError, MissingClaimError) as exc:
        claim = str(getattr(exc, "claim", ""))
        raise TokenRejected({"aud": "wrong_audience", "iss": "wrong_issuer"}.get(claim, "invalid_token")) from None
    except JoseError:
        raise TokenRejected("invalid_token") from None
    audiences = claims["aud"] if isinstance(claims["aud"], list) else [claims["aud"]]
    # Several audiences: the token must say it was issued to us (azp); a present azp must be us.
    if (len(audiences) > 1 or "azp" in claims) and claims.get("azp") != client_id:
        raise TokenRejected("wrong_audience")
    if not isinstance(claims["iat"], int) or claims["iat"] < now - MAX_AGE_SECONDS:
        raise TokenRejected("token_expired")
    if claims.get("nonce") != nonce:
        raise TokenRejected("nonce_mismatch")
    email = claims.get("email")
    if not isinstance(email, str) or "@" not in email or len(email) > 320:
        raise TokenRejected("email_missing")
    if not _email_verified(claims):
        raise TokenRejected("email_unverified")
    return Identity(subject=str(claims["sub"]), email=email.strip().lower())


def _email_verified(claims: dict[str, Any]) -> bool:
    """email_verified exactly true; or, from an issuer that sends no email_verified at all (Microsoft Entra
    does not for work accounts), Entra's optional claim xms_edov exactly true: the email's domain is one the
    issuer's directory owns and verified."""
    if "email_verified" in claims:
        return claims["email_verified"] is True
    return claims.get("xms_edov") is True


def _verified_signature(id_token: str, provider: Provider) -> dict[str, Any]:
    for fresh in (False, True):
        try:
            token = jwt.decode(id_token, signing_keys(provider, fresh=fresh), algorithms=list(provider.algorithms))
        except InvalidKeyIdError:
            if not fresh:  # a key id not in the cached set: the issuer may have rotated; refetch once
                continue
            raise TokenRejected("bad_signature") from None
        except BadSignatureError:
            raise TokenRejected("bad_signature") from None
        except (JoseError, ValueError, TypeError):
            raise TokenRejected("invalid_token") from None
        return dict(token.claims)
    raise TokenRejected("bad_signature")  # the loop returns or raises; mypy cannot see it
