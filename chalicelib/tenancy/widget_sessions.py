"""Widget sessions: the public widget key starts (or resumes) a visitor's session."""
from __future__ import annotations

import secrets
from datetime import datetime, timezone

from pynamodb.exceptions import DoesNotExist

from .. import ratelimit
from ..clock import iso
from ..conversations.service import current_conversation
from ..errors import NotFound
from ..ids import new_id
from ..runtime import runtime
from ..storage.models import TenantModel, VisitorModel
from ..visitors import service as visitors
from . import origins
from . import schemas as s
from .tokens import signer


def tenant_for_widget_key(widget_key: str) -> TenantModel:
    parts = widget_key.split(".")
    if len(parts) != 3 or parts[0] != "wk":
        raise NotFound("No such widget.")
    try:
        tenant = TenantModel.get(parts[1], consistent_read=True)
    except DoesNotExist:
        raise NotFound("No such widget.") from None
    if not secrets.compare_digest(tenant.widget_key, widget_key):
        raise NotFound("No such widget.")
    return tenant


def start_widget_session(widget_key: str, body: s.WidgetSessionIn, source_ip: str,
                         origin: str | None = None) -> s.WidgetSessionOut:
    rt = runtime()
    ratelimit.enforce("widget-session-ip", source_ip, rt.config.widget_sessions_per_minute, 60)
    tenant = tenant_for_widget_key(widget_key)
    # Before anything is written: a page the tenant does not allow gets no visitor at all.
    origins.check(origin, lambda: s.Settings.model_validate(tenant.settings).allowed_origins,
                  tenant.tenant_id, "widget session")
    details = body.model_dump(include={"name", "email", "locale", "team"}, exclude_none=True)
    visitor = visitors.resume_returning(tenant.tenant_id, body.visitor_token, details)
    returning = visitor is not None
    # Only the visitor the token names resumes a chat; a new one (even one recognised by email) has none.
    current = current_conversation(tenant.tenant_id, visitor.visitor_id) if visitor is not None else None
    if visitor is None:
        # An email recognises but never authenticates: a new identity, linked to the earlier one.
        known_as = visitors.earlier_visitor_with_email(tenant.tenant_id, details.get("email"))
        returning = known_as is not None
        visitor = _new_visitor(tenant.tenant_id, details, known_as)
    issued = signer().issue("visitor", tenant.tenant_id, visitor.visitor_id,
                            rt.config.visitor_token_ttl_seconds)
    return s.WidgetSessionOut(visitor_id=visitor.visitor_id, visitor_token=issued.token,
                              ws_url=rt.config.ws_public_url,
                              expires_at=iso(datetime.fromtimestamp(issued.expires_at, tz=timezone.utc)),
                              returning=returning,
                              open_conversation_id=current.conversation_id if current is not None else None)


def _new_visitor(tenant_id: str, details: dict[str, str], known_as: str | None) -> VisitorModel:
    now = runtime().clock.utcnow()
    visitor = VisitorModel(tenant_id, new_id("v"), created_at=now, last_seen_at=now, known_as=known_as,
                           **details)
    visitor.save()
    return visitor
