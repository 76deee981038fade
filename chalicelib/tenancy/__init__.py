"""Tenants, agents, credentials, API keys, settings and who-is-calling."""
