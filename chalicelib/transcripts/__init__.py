"""Message text at rest: envelope encryption under per-tenant keys."""
