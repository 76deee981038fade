"""What a code is: TOTP steps (RFC 6238: SHA-1, 6 digits, 30 s, one step of drift either way), the
otpauth:// URI and its QR code, and recovery codes and the digests they are stored as."""
from __future__ import annotations

import hashlib
import hmac
import io
import re
import secrets

import pyotp

ISSUER = "Switchboard"
STEP_SECONDS = 30
DRIFT_STEPS = 1
RECOVERY_CODES = 10
# 16 characters of 31 (no 0/o, 1/l/i): about 79 bits each, too many to guess, so an unsalted
# SHA-256 (bound to tenant and agent) is enough to store them by, as for API keys.
_RECOVERY_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"
_RECOVERY_LENGTH, _RECOVERY_GROUP = 16, 4


def new_secret() -> str:
    return pyotp.random_base32()  # 160 bits, base32, as RFC 4226 recommends


def otpauth_uri(secret: str, email: str) -> str:
    return pyotp.TOTP(secret).provisioning_uri(name=email, issuer_name=ISSUER)


def qr_svg(uri: str) -> str:
    """The URI as a QR code, a standalone SVG document (the console shows it as an image)."""
    import segno  # only enrolment draws one: logins do not load it

    out = io.BytesIO()
    segno.make(uri, error="m").save(out, kind="svg", scale=5, border=2, xmldecl=False)
    return out.getvalue().decode()


def current_step(now: float) -> int:
    return int(now // STEP_SECONDS)


def matching_step(secret: str, code: str, now: float) -> int | None:
    """The time step the code belongs to, within the drift allowed around now; None if none."""
    totp, step = pyotp.TOTP(secret), current_step(now)
    for candidate in range(step - DRIFT_STEPS, step + DRIFT_STEPS + 1):
        if hmac.compare_digest(totp.generate_otp(candidate), code):
            return candidate
    return None


def new_recovery_codes() -> list[str]:
    codes = []
    for _ in range(RECOVERY_CODES):
        raw = "".join(secrets.choice(_RECOVERY_ALPHABET) for _ in range(_RECOVERY_LENGTH))
        codes.append("-".join(raw[i:i + _RECOVERY_GROUP] for i in range(0, _RECOVERY_LENGTH, _RECOVERY_GROUP)))
    return codes


def recovery_digest(tenant_id: str, agent_id: str, code: str) -> str:
    """How a recovery code is stored and looked up: case, spaces and dashes do not matter."""
    normalised = re.sub(r"[^a-z0-9]", "", code.lower())
    return hashlib.sha256(f"switchboard.recovery-code.v1|{tenant_id}|{agent_id}|{normalised}".encode()).hexdigest()
