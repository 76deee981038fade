"""Conversations: messages, presence, routing and the queue (docs/conversations.md)."""
