"""Single sign-on with OpenID Connect: a tenant's issuer registration, the authorization code flow with
PKCE, state and nonce, and ID-token verification against the issuer's keys (docs/security.md)."""
