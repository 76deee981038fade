"""Opaque, unguessable, roughly time-ordered identifiers."""
from __future__ import annotations

import base64
import secrets
import time


def new_id(prefix: str) -> str:
    # 48 bits of milliseconds then 80 random bits: sorts by creation, cannot be guessed. The
    # "extended hex" alphabet (0-9, a-v) keeps byte order in string order; standard base32's
    # (a-z, 2-7) does not, since digits sort before letters.
    raw = int(time.time() * 1000).to_bytes(6, "big") + secrets.token_bytes(10)
    return f"{prefix}_{base64.b32hexencode(raw).decode().rstrip('=').lower()}"
