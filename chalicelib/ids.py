"""Opaque, unguessable, roughly time-ordered identifiers."""
from __future__ import annotations

import base64
import secrets
import time


def new_id(prefix: str) -> str:
    # 48 bits of milliseconds then 80 random bits: sorts by creation, cannot be guessed.
    raw = int(time.time() * 1000).to_bytes(6, "big") + secrets.token_bytes(10)
    return f"{prefix}_{base64.b32encode(raw).decode().rstrip('=').lower()}"
