"""The single place every security-relevant act is recorded.

Until the tamper-evident hash chain lands (issue "Tamper-evident audit trail"), an event is written
as one structured JSON log line; callers will not change when the chain replaces it. Details never
hold message text or secrets.
"""
from __future__ import annotations

import json
import logging
from typing import Any

from ..clock import iso
from ..runtime import runtime

log = logging.getLogger("switchboard.audit")


def record_event(tenant_id: str, actor: dict[str, str], action: str, target: str,
                 details: dict[str, Any] | None = None) -> None:
    log.info(json.dumps({"audit": action, "tenant_id": tenant_id, "actor": actor, "target": target,
                         "details": details or {}, "ts": iso(runtime().clock.utcnow())}, sort_keys=True))
