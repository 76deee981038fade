"""Email as a channel (docs/email.md): each tenant's inbound address, mail in (parsed, screened,
threaded into a conversation) and agents' answers out as proper replies."""
