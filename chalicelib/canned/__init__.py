"""Canned responses: a tenant's shortcuts ("/refund") that agents expand into prepared text."""
