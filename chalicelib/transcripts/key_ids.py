"""Stable ids of the keys under transcripts: each is the associated data its wrapping is bound to.

A wrapped key opens only with exactly this string (keys.py), so the id names one key for good: a
wrapped blob copied to another place does not open as that place's key. A message names its key by
its row (tenant and conversation, which its own associated data binds) and its key_version.
Standard library only: the auditor's key-store check (erasure_proof.py) derives the same ids.
"""
from __future__ import annotations


def visitor_key_id(tenant_id: str, visitor_id: str, version: int) -> str:
    return f"switchboard.visitor-key.v1|{tenant_id}|{visitor_id}|{version}"


def conversation_key_id(tenant_id: str, conversation_id: str, version: int) -> str:
    return f"switchboard.conversation-key.v1|{tenant_id}|{conversation_id}|{version}"
