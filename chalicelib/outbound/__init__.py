"""Outbound HTTP to places a tenant names (an OpenID issuer; webhooks next): see http.py."""
