"""Alert emails to a tenant's admins: conversations waiting past the SLA with nobody online (docs/alerts.md)."""
