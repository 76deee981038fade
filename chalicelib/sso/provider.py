"""What an issuer publishes: its discovery document and its signing keys, fetched through the safe
fetcher and kept per container for a few minutes (a sign-in costs no fetch of either while warm)."""
from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from joserfc.errors import JoseError
from joserfc.jwk import KeySet

from ..outbound.http import LOOPBACK_HOST, FetchError, fetch
from ..runtime import runtime

CACHE_SECONDS = 300
MAX_ENTRIES = 256
# Asymmetric only: "none" and the HMAC family (keyed with the client secret) are never accepted.
SIGNING_ALGORITHMS = ("RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512", "EdDSA")


class ProviderError(Exception):
    """The issuer, its discovery document or its keys are not usable; the message says what is wrong."""


@dataclass(frozen=True)
class Provider:
    issuer: str
    authorization_endpoint: str
    token_endpoint: str
    jwks_uri: str
    algorithms: tuple[str, ...]
    basic_auth: bool  # client_secret_basic at the token endpoint (the default); else client_secret_post


class _Cache:
    def __init__(self) -> None:
        self._entries: dict[str, tuple[float, Any]] = {}
        self._lock = threading.Lock()

    def get(self, key: str) -> Any:
        with self._lock:
            hit = self._entries.get(key)
            return hit[1] if hit and hit[0] > runtime().clock.now() else None

    def put(self, key: str, value: Any) -> None:
        with self._lock:
            if len(self._entries) >= MAX_ENTRIES:
                self._entries.clear()
            self._entries[key] = (runtime().clock.now() + CACHE_SECONDS, value)


def _cache() -> _Cache:
    return runtime().once("sso_provider_cache", _Cache)


def check_issuer_url(issuer: str) -> None:
    parts = urlsplit(issuer)
    loopback = runtime().config.outbound_allow_loopback and parts.scheme == "http" and parts.hostname == LOOPBACK_HOST
    if not (parts.scheme == "https" or loopback) or not parts.hostname:
        raise ProviderError("issuer: must be an https:// URL")
    if parts.query or parts.fragment:
        raise ProviderError("issuer: must have no query or fragment")


def discover(issuer: str, *, fresh: bool = False) -> Provider:
    """The issuer's discovery document, checked (OpenID Connect Discovery 1.0, section 4)."""
    cached = None if fresh else _cache().get("discovery|" + issuer)
    if cached is not None:
        return cached  # type: ignore[no-any-return]
    check_issuer_url(issuer)
    url = issuer.rstrip("/") + "/.well-known/openid-configuration"
    try:
        answer = fetch(url)
        if answer.status != 200:
            raise ProviderError(f"issuer: {url} answered {answer.status}")
        document = answer.json()
    except FetchError as exc:
        raise ProviderError(f"issuer: {exc}") from None
    provider = _checked(issuer, document)
    _cache().put("discovery|" + issuer, provider)
    return provider


def _checked(issuer: str, document: Any) -> Provider:
    if not isinstance(document, dict):
        raise ProviderError("issuer: the discovery document is not a JSON object")
    if document.get("issuer") != issuer:
        raise ProviderError(f"issuer: the discovery document names issuer {str(document.get('issuer'))[:200]!r}, "
                            "not exactly the one registered")
    for name in ("authorization_endpoint", "token_endpoint", "jwks_uri"):
        value = document.get(name)
        if not isinstance(value, str) or not value:
            raise ProviderError(f"issuer: the discovery document has no {name}")
        try:
            check_issuer_url(value.split("?", 1)[0])
        except ProviderError:
            raise ProviderError(f"issuer: {name} must be an https:// URL") from None
    pkce = document.get("code_challenge_methods_supported")
    # Absent is accepted: Microsoft Entra supports S256 without listing it; a list without it is refused.
    if pkce is not None and (not isinstance(pkce, list) or "S256" not in pkce):
        raise ProviderError("issuer: PKCE with S256 is not among code_challenge_methods_supported")
    responses = document.get("response_types_supported")
    if isinstance(responses, list) and "code" not in responses:
        raise ProviderError("issuer: the authorization code flow is not among response_types_supported")
    listed = document.get("id_token_signing_alg_values_supported")
    algorithms = tuple(a for a in SIGNING_ALGORITHMS if not isinstance(listed, list) or a in listed)
    if not algorithms:
        raise ProviderError("issuer: it signs ID tokens with no algorithm Switchboard accepts "
                            f"({', '.join(SIGNING_ALGORITHMS)})")
    methods = document.get("token_endpoint_auth_methods_supported")
    if isinstance(methods, list) and not {"client_secret_basic", "client_secret_post"} & set(methods):
        raise ProviderError("issuer: the token endpoint takes neither client_secret_basic nor client_secret_post")
    basic = not isinstance(methods, list) or "client_secret_basic" in methods
    return Provider(issuer, document["authorization_endpoint"], document["token_endpoint"], document["jwks_uri"],
                    algorithms, basic)


def signing_keys(provider: Provider, *, fresh: bool = False) -> KeySet:
    """The issuer's JWKS; `fresh` refetches it (once, on a key id it did not hold: the issuer rotated)."""
    cached = None if fresh else _cache().get("jwks|" + provider.jwks_uri)
    if cached is not None:
        return cached  # type: ignore[no-any-return]
    try:
        answer = fetch(provider.jwks_uri)
        if answer.status != 200:
            raise ProviderError(f"the issuer's JWKS answered {answer.status}")
        document = answer.json()
        keys = [key for key in document.get("keys", []) if isinstance(key, dict)] if isinstance(document, dict) else []
        key_set = KeySet.import_key_set({"keys": [key for key in keys if key.get("use", "sig") == "sig"]})
    except FetchError as exc:
        raise ProviderError(f"the issuer's JWKS: {exc}") from None
    except (JoseError, ValueError, TypeError):
        raise ProviderError("the issuer's JWKS holds a key that does not parse") from None
    _cache().put("jwks|" + provider.jwks_uri, key_set)
    return key_set
