"""The FAQ bot: a tenant's FAQ entries, and ranking a visitor's message against them."""
