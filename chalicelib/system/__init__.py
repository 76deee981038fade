"""Health, the OpenAPI document, and what every HTTP response gets."""
