"""Signed tokens (JWT, HS256): agent sessions, visitors, and the links emails carry.

The HMAC keys are the versions of one Secrets Manager secret (infra/template.yaml, TokenSigningSecret).
New tokens are signed with its AWSCURRENT version and name it in their header (`kid`: the version id).
A token verifies with AWSCURRENT or AWSPREVIOUS, so after a rotation (docs/deploy.md) tokens signed
before it keep working until they expire; the rotation after that retires their key. A container
re-reads both versions every KEY_CACHE_SECONDS, and sooner when a token names a key it has not seen
(another container may already sign with a new one), at most once per UNKNOWN_KEY_RELOAD_SECONDS.
"""
from __future__ import annotations

import re
import secrets
import threading
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

from ..errors import Unauthorized
from ..lazy import lazy_module
from ..runtime import Runtime, runtime

if TYPE_CHECKING:
    import jwt
else:  # PyJWT and the cryptography under it: loaded by the first token signed or read, not by `import app`
    jwt = lazy_module("jwt")

ISSUER = "switchboard"
Audience = Literal["agent", "visitor", "survey", "unsubscribe"]


@dataclass(frozen=True)
class IssuedToken:
    token: str
    expires_at: float


KEY_CACHE_SECONDS = 300
UNKNOWN_KEY_RELOAD_SECONDS = 5
_KID = re.compile(r"^[A-Za-z0-9\-]{1,64}$")  # Secrets Manager version ids are UUIDs


class KeyRing:
    """The signing secret's current and previous versions, by version id."""

    def __init__(self, rt: Runtime) -> None:
        self._rt = rt
        self._lock = threading.Lock()
        self._keys: dict[str, bytes] = {}
        self._current = ""
        self._loaded_at = self._missed_at = float("-inf")

    def current(self) -> tuple[str, bytes]:
        if self._rt.clock.now() - self._loaded_at >= KEY_CACHE_SECONDS:
            self._load()
        return self._current, self._keys[self._current]

    def get(self, kid: str) -> bytes | None:
        now = self._rt.clock.now()
        if now - self._loaded_at >= KEY_CACHE_SECONDS:
            self._load()
        elif kid not in self._keys and now - self._missed_at >= UNKNOWN_KEY_RELOAD_SECONDS:
            self._missed_at = now  # made-up key ids cost at most one re-read per interval
            self._load()
        return self._keys.get(kid)

    def held(self) -> list[bytes]:
        self.current()
        return list(self._keys.values())

    def _load(self) -> None:
        client = self._rt.client("secretsmanager")
        keys, current = {}, ""
        for stage in ("AWSCURRENT", "AWSPREVIOUS"):
            try:
                version = client.get_secret_value(SecretId=self._rt.config.token_secret_id, VersionStage=stage)
            except client.exceptions.ResourceNotFoundException:
                if stage == "AWSCURRENT":
                    raise
                continue  # never rotated yet: no previous version
            keys[version["VersionId"]] = version["SecretString"].encode()
            current = current or version["VersionId"]
        with self._lock:
            self._keys, self._current, self._loaded_at = keys, current, self._rt.clock.now()


class TokenSigner:
    def __init__(self, keys: KeyRing, rt: Runtime) -> None:
        self._keys = keys
        self._rt = rt

    @property
    def keys(self) -> KeyRing:
        """The signing keys, for other HMACs under the same secret (the email channel's reply addresses)."""
        return self._keys

    def issue(self, audience: Audience, tenant_id: str, subject: str, ttl_seconds: int,
              **claims: Any) -> IssuedToken:
        now = int(self._rt.clock.now())
        payload = {"iss": ISSUER, "aud": audience, "sub": subject, "tid": tenant_id,
                   "iat": now, "exp": now + ttl_seconds, "jti": secrets.token_hex(8), **claims}
        kid, key = self._keys.current()
        return IssuedToken(jwt.encode(payload, key, algorithm="HS256", headers={"kid": kid}), now + ttl_seconds)

    def verify(self, token: str, audiences: tuple[Audience, ...], *,
               allow_expired: bool = False) -> dict[str, Any]:
        """The token's claims if its signature (by the key its `kid` names), issuer and audience hold;
        allow_expired skips only the expiry (a returning visitor's old token still says who they were)."""
        claims = None
        for key in self._candidate_keys(token):
            try:
                claims = jwt.decode(token, key, algorithms=["HS256"], audience=list(audiences),
                                    issuer=ISSUER, options={"require": ["exp", "iat", "sub", "aud"],
                                                            "verify_exp": False, "verify_iat": False})
                break
            except jwt.PyJWTError:
                continue
        if claims is None:
            raise Unauthorized("Invalid or expired token.")
        # Time is checked against the runtime clock (not PyJWT's) so tests can move it.
        expired = claims["exp"] <= self._rt.clock.now()
        if not isinstance(claims.get("tid"), str) or (expired and not allow_expired):
            raise Unauthorized("Invalid or expired token.")
        return claims

    def _candidate_keys(self, token: str) -> list[bytes]:
        try:
            header = jwt.get_unverified_header(token)
        except jwt.PyJWTError:
            return []
        kid = header.get("kid")
        if kid is None:
            # Signed before tokens named their key (survey and unsubscribe links live for weeks):
            # whichever version we still hold signed it, if any did.
            return self._keys.held()
        key = self._keys.get(kid) if isinstance(kid, str) and _KID.match(kid) else None
        return [key] if key is not None else []


def signer() -> TokenSigner:
    rt = runtime()
    return rt.once("token_signer", lambda: TokenSigner(KeyRing(rt), rt))
