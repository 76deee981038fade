"""A small but real OpenID Connect provider for the local stack and the tests (no internet needed).

Discovery, a JWKS with one EC P-256 key, /authorize (a tiny page to pick or type a user, then a redirect back
with a code), /token (client id and secret, basic or in the form; the redirect URI; the PKCE S256 verifier;
a code used once) issuing an ES256-signed ID token (no userinfo: the ID token
carries the email). `misbehave` makes it lie the ways a broken
or hostile issuer would, so the tests can show each is refused: a signature by a key not in its JWKS, a wrong
audience, a token already expired, an unverified email, one nonce replayed on every token, an error from the
token endpoint.
"""
from __future__ import annotations

import base64
import hashlib
import html
import json
import secrets
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, unquote, urlencode, urlsplit

from joserfc import jwt
from joserfc.jwk import ECKey

CLIENT_ID = "switchboard-local"
CLIENT_SECRET = "local-oidc-client-secret"


@dataclass
class Misbehave:
    rogue_key: bool = False  # sign with a key that is not in the JWKS (under the published key id)
    audience: str | list[str] | None = None  # this aud instead of the client id (a list: several, no azp)
    expired: bool = False  # exp and iat an hour ago
    unverified: bool = False  # email_verified false
    no_email_verified: bool = False  # as Microsoft Entra for work accounts: no email_verified claim at all
    xms_edov: object = None  # Entra's optional "email domain owner verified" claim, sent when not None
    replay_nonce: bool = False  # every token carries the first nonce it ever saw
    token_error: bool = False  # the token endpoint answers 400 invalid_grant


@dataclass
class _Grant:
    client_id: str
    redirect_uri: str
    challenge: str
    nonce: str
    email: str


@dataclass
class OidcIssuer:
    host: str = "127.0.0.1"
    port: int = 0
    client_id: str = CLIENT_ID
    client_secret: str = CLIENT_SECRET
    redirect_uris: list[str] = field(default_factory=list)
    users: list[str] = field(default_factory=list)  # shown on the sign-in page; any other may be typed
    misbehave: Misbehave = field(default_factory=Misbehave)

    def __post_init__(self) -> None:
        self.key = self._new_key()
        self._grants: dict[str, _Grant] = {}
        self._first_nonce: str | None = None
        self._lock = threading.Lock()
        self._server: ThreadingHTTPServer | None = None

    @staticmethod
    def _new_key() -> ECKey:
        return ECKey.generate_key("P-256", parameters={"kid": secrets.token_hex(8), "use": "sig", "alg": "ES256"})

    @property
    def issuer(self) -> str:
        return f"http://{self.host}:{self.port}"

    def rotate_key(self) -> None:
        """A new signing key under a new key id (what a JWKS cache must follow)."""
        self.key = self._new_key()

    def start(self) -> OidcIssuer:
        issuer = self

        class Handler(_Handler):
            owner = issuer

        self._server = ThreadingHTTPServer((self.host, self.port), Handler)
        self.port = self._server.server_address[1]
        # How fast serve_forever notices shutdown(): tests start and stop an issuer for each test.
        threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, name="oidc-issuer",
                         daemon=True).start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()

    # --- what the endpoints do ----------------------------------------------------------------------
    def discovery(self) -> dict[str, Any]:
        return {"issuer": self.issuer, "authorization_endpoint": f"{self.issuer}/authorize",
                "token_endpoint": f"{self.issuer}/token", "jwks_uri": f"{self.issuer}/jwks",
                "response_types_supported": ["code"],
                "subject_types_supported": ["public"], "id_token_signing_alg_values_supported": ["ES256"],
                "code_challenge_methods_supported": ["S256"], "scopes_supported": ["openid", "email", "profile"],
                "token_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post"],
                "grant_types_supported": ["authorization_code"]}

    def jwks(self) -> dict[str, Any]:
        return {"keys": [self.key.as_dict(private=False)]}

    def authorize_problem(self, params: dict[str, str]) -> str | None:
        if params.get("client_id") != self.client_id:
            return "unknown client_id"
        if self.redirect_uris and params.get("redirect_uri") not in self.redirect_uris:
            return "redirect_uri is not registered for this client"
        if params.get("response_type") != "code" or "openid" not in params.get("scope", "").split():
            return "only response_type=code with scope openid"
        if params.get("code_challenge_method") != "S256" or not params.get("code_challenge"):
            return "PKCE with S256 is required"
        return None

    def grant(self, params: dict[str, str], email: str) -> str:
        """The redirect back to the client with a fresh code for `email`."""
        code = secrets.token_urlsafe(24)
        with self._lock:
            self._grants[code] = _Grant(params["client_id"], params["redirect_uri"], params["code_challenge"],
                                        params.get("nonce", ""), email.strip().lower())
        back = {"code": code, "iss": self.issuer}
        if "state" in params:
            back["state"] = params["state"]
        separator = "&" if "?" in params["redirect_uri"] else "?"
        return params["redirect_uri"] + separator + urlencode(back)

    def token(self, form: dict[str, str], authorization: str | None) -> tuple[int, dict[str, Any]]:
        client_id, secret = form.get("client_id"), form.get("client_secret")
        if authorization and authorization.startswith("Basic "):
            pair = base64.b64decode(authorization[6:]).decode()
            client_id, _, secret = (unquote(part) for part in pair.partition(":"))
        if client_id != self.client_id or not secrets.compare_digest(secret or "", self.client_secret):
            return 401, {"error": "invalid_client"}
        with self._lock:
            grant = self._grants.pop(form.get("code", ""), None)  # once only
        if grant is None or grant.client_id != client_id or form.get("redirect_uri") != grant.redirect_uri:
            return 400, {"error": "invalid_grant"}
        verifier = form.get("code_verifier", "")
        challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
        if not secrets.compare_digest(challenge, grant.challenge):
            return 400, {"error": "invalid_grant", "error_description": "PKCE verifier does not match"}
        if self.misbehave.token_error:
            return 400, {"error": "invalid_grant"}
        return 200, {"access_token": secrets.token_urlsafe(24), "token_type": "Bearer", "expires_in": 300,
                     "id_token": self.id_token(grant)}

    def id_token(self, grant: _Grant) -> str:
        now = int(time.time()) - (3600 if self.misbehave.expired else 0)
        with self._lock:
            self._first_nonce = self._first_nonce or grant.nonce
            nonce = self._first_nonce if self.misbehave.replay_nonce else grant.nonce
        claims = {"iss": self.issuer, "sub": hashlib.sha256(grant.email.encode()).hexdigest()[:24],
                  "aud": self.misbehave.audience or grant.client_id, "iat": now, "exp": now + 300,
                  "nonce": nonce, "email": grant.email, "email_verified": not self.misbehave.unverified,
                  "name": grant.email.split("@")[0].title()}
        if self.misbehave.no_email_verified:
            del claims["email_verified"]
        if self.misbehave.xms_edov is not None:
            claims["xms_edov"] = self.misbehave.xms_edov
        key = self._new_key() if self.misbehave.rogue_key else self.key
        return jwt.encode({"alg": "ES256", "kid": self.key.kid}, claims, key)

    def sign_in_page(self, params: dict[str, str]) -> str:
        hidden = "".join(f'<input type="hidden" name="{html.escape(k)}" value="{html.escape(v)}">'
                         for k, v in params.items() if k != "login_hint")
        users = "".join(
            f'<li><a class="user" href="/authorize?{html.escape(urlencode({**params, "user": email}))}">'
            f"{html.escape(email)}</a></li>" for email in self.users)
        hint = html.escape(params.get("login_hint", ""))
        return ("<!doctype html><title>Local OpenID issuer</title><h1>Local OpenID issuer</h1>"
                "<p>Sign in to Switchboard as:</p>"
                f"<ul>{users}</ul><form method=get action=/authorize>{hidden}"
                f'<label>Email <input name=user type=email value="{hint}"></label> '
                "<button type=submit>Sign in</button></form>")


class _Handler(BaseHTTPRequestHandler):
    owner: OidcIssuer

    def log_message(self, format: str, *args: Any) -> None:  # quiet: tests and make dev have their own logs
        pass

    def do_GET(self) -> None:
        parts = urlsplit(self.path)
        params = {k: v[0] for k, v in parse_qs(parts.query).items()}
        issuer = self.owner
        if parts.path == "/.well-known/openid-configuration":
            self._json(200, issuer.discovery())
        elif parts.path == "/jwks":
            self._json(200, issuer.jwks())
        elif parts.path == "/authorize":
            problem = issuer.authorize_problem(params)
            if problem:
                self._send(400, "text/plain; charset=utf-8", problem.encode())
            elif params.get("user"):
                self.send_response(302)
                self.send_header("Location", issuer.grant(params, params["user"]))
                self.send_header("Content-Length", "0")
                self.end_headers()
            else:
                self._send(200, "text/html; charset=utf-8", issuer.sign_in_page(params).encode())
        else:
            self._json(404, {"error": "not_found"})

    def do_POST(self) -> None:
        if urlsplit(self.path).path != "/token":
            self._json(404, {"error": "not_found"})
            return
        length = int(self.headers.get("Content-Length") or 0)
        form = {k: v[0] for k, v in parse_qs(self.rfile.read(length).decode()).items()}
        status, body = self.owner.token(form, self.headers.get("Authorization"))
        self._json(status, body)

    def _json(self, status: int, body: dict[str, Any]) -> None:
        self._send(status, "application/json", json.dumps(body).encode())

    def _send(self, status: int, content_type: str, body: bytes) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Cache-Control", "no-store")
        self.end_headers()
        self.wfile.write(body)
