"""Who is calling and may they: principals, signed tokens, agent sessions, page origins.

A low floor: it reads storage and nothing of the capabilities above it, so every route,
WebSocket handler and job can authenticate without loading conversations or tenancy.
"""
