"""Visitor profiles (tags, notes, past conversations) and returning-visitor recognition."""
