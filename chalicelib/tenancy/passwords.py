"""Password hashing with scrypt (stdlib, memory-hard) at OWASP's cost: N=2^17, r=8, p=1.

N comes from SWITCHBOARD_SCRYPT_N (2^17 unless a test suite lowers it for speed). A stored hash
keeps its own parameters, so raising N later leaves old hashes verifiable; login rehashes them.
"""
from __future__ import annotations

import base64
import hashlib
import hmac
import os
from functools import cache

from ..runtime import runtime

DEFAULT_N, _R, _P, _DKLEN = 2**17, 8, 1, 32


def _b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode()


def _derive(password: str, salt: bytes, n: int, r: int, p: int) -> bytes:
    # scrypt needs 128*r*(N + p + 2) bytes (128 MiB at OWASP's cost); OpenSSL's default cap is 32 MiB.
    maxmem = 128 * r * (n + p + 2) + 2**20
    return hashlib.scrypt(password.encode(), salt=salt, n=n, r=r, p=p, dklen=_DKLEN, maxmem=maxmem)


def hash_password(password: str) -> str:
    return _hash(password, runtime().config.scrypt_n)


def _hash(password: str, n: int) -> str:
    salt = os.urandom(16)
    return f"scrypt${n}${_R}${_P}${_b64(salt)}${_b64(_derive(password, salt, n, _R, _P))}"


def verify_password(password: str, stored: str) -> bool:
    try:
        scheme, n, r, p, salt, expected = stored.split("$")
        if scheme != "scrypt":
            return False
        actual = _derive(password, base64.b64decode(salt), int(n), int(r), int(p))
    except (ValueError, TypeError):
        return False
    return hmac.compare_digest(actual, base64.b64decode(expected))


def needs_rehash(stored: str) -> bool:
    """True when a stored hash is cheaper than today's cost (checked after a successful verify)."""
    _, n, r, p, *_ = stored.split("$")
    return int(n) < runtime().config.scrypt_n or int(r) < _R or int(p) < _P


@cache
def _decoy_hash(n: int) -> str:
    return _hash(os.urandom(16).hex(), n)


def burn_verification_time(password: str) -> None:
    """Spend what a real check costs, so an unknown account answers as slowly as a wrong password."""
    verify_password(password, _decoy_hash(runtime().config.scrypt_n))
