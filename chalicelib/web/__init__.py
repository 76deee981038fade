"""REST plumbing shared by every Blueprint: routing, validation, errors, OpenAPI."""
