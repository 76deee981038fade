"""Satisfaction surveys after a conversation closes, and the follow-ups they (or an unresolved close) open."""
