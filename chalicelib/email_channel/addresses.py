"""The addresses mail reaches a tenant at: its inbound address `<tenant_id>@<inbound domain>`, and one
reply address per conversation, `<tenant_id>+<conversation_id>.<sig>@<inbound domain>`, whose sig (a
truncated HMAC-SHA256 under the token-signing secret, tokens.py's keys) makes it unforgeable: an
altered or made-up reply address never continues a conversation."""
from __future__ import annotations

import hashlib
import hmac
import re
from dataclasses import dataclass

from ..access.tokens import signer
from ..runtime import runtime

SIG_CHARS = 20  # 80 bits of the HMAC, lower-case hex (mail systems may fold the case of a local part)
# Ids are "<prefix>_<base32hex, lower case>" (chalicelib/ids.py).
_LOCAL = re.compile(r"^(?P<tenant>[a-z]+_[0-9a-v]{1,40})(?:\+(?P<conversation>[a-z]+_[0-9a-v]{1,40})"
                    r"\.(?P<sig>[0-9a-f]{" + str(SIG_CHARS) + r"}))?$")


@dataclass(frozen=True)
class Recipient:
    tenant_id: str
    conversation_id: str | None  # set only by a reply address whose signature holds


def inbound_address(tenant_id: str) -> str:
    return f"{tenant_id}@{runtime().config.inbound_domain}"


def _sig(key: bytes, tenant_id: str, conversation_id: str) -> str:
    message = f"switchboard.reply-address.v1|{tenant_id}|{conversation_id}".encode()
    return hmac.new(key, message, hashlib.sha256).hexdigest()[:SIG_CHARS]


def reply_address(tenant_id: str, conversation_id: str) -> str:
    _, key = signer().keys.current()
    return f"{tenant_id}+{conversation_id}.{_sig(key, tenant_id, conversation_id)}@{runtime().config.inbound_domain}"


def recipient(address: str) -> Recipient | None:
    """Whom mail to `address` is for: a tenant (and, by a reply address that verifies under the
    current or previous signing key, one of its conversations); None for anything else, a forged
    or altered reply address included."""
    local, _, domain = address.strip().lower().rpartition("@")
    if domain != runtime().config.inbound_domain:
        return None
    found = _LOCAL.match(local)
    if found is None:
        return None
    tenant_id, conversation_id, sig = found.group("tenant", "conversation", "sig")
    if conversation_id is None:
        return Recipient(tenant_id, None)
    if any(hmac.compare_digest(sig, _sig(key, tenant_id, conversation_id)) for key in signer().keys.held()):
        return Recipient(tenant_id, conversation_id)
    return None
