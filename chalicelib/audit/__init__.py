"""The audit trail of security-relevant acts."""
