"""Widget sessions: the public widget key starts (or resumes) a visitor's session.

Who the session is for, in order: a verified user (user_id with a good user_hash: their one visitor,
identities.py); else the visitor an earlier visitor_token of this browser names, within the
absolute lifetime of its run of sessions; else a new anonymous visitor. An email never decides it
and never changes the answer: a match is only a hint agents see on the new visitor's profile.
"""
from __future__ import annotations

import secrets
from datetime import UTC, datetime

from pynamodb.exceptions import DoesNotExist

from ..access import origins, visitor_limits
from ..access.tokens import signer
from ..clock import iso
from ..conversations.opening import current_conversation
from ..errors import NotFound
from ..i18n import accept_language, negotiate
from ..runtime import runtime
from ..storage.settings import Settings
from ..storage.tenants import TenantModel
from ..storage.visitors import VisitorModel
from . import identities
from . import schemas as s
from . import service as visitors


def new_widget_key(tenant_id: str) -> str:
    return f"wk.{tenant_id}.{secrets.token_urlsafe(16)}"


def tenant_for_widget_key(widget_key: str) -> TenantModel:
    parts = widget_key.split(".")
    if len(parts) != 3 or parts[0] != "wk" or not all(parts):
        raise NotFound("No such widget.")
    try:
        tenant = TenantModel.get(parts[1], consistent_read=True)
    except DoesNotExist:
        raise NotFound("No such widget.") from None
    if not secrets.compare_digest(tenant.widget_key, widget_key):
        raise NotFound("No such widget.")
    return tenant


def start_widget_session(widget_key: str, body: s.WidgetSessionIn, source_ip: str,
                         origin: str | None = None, accept_language_header: str | None = None) -> s.WidgetSessionOut:
    rt = runtime()
    visitor_limits.count_session_start(source_ip)
    tenant = tenant_for_widget_key(widget_key)
    # Before anything is written: a page the tenant does not allow gets no visitor at all.
    origins.check(origin, lambda: Settings.model_validate(tenant.settings).allowed_origins,
                  tenant.tenant_id, "widget session")
    details = body.model_dump(include={"name", "email", "team"}, exclude_none=True)
    # The language every text the visitor gets speaks (system messages, surveys, emails): the page's,
    # else the browser's, else the tenant's default; always one Switchboard speaks.
    details["locale"] = negotiate(body.locale, *accept_language(accept_language_header),
                                  Settings.model_validate(tenant.settings).default_locale)
    visitor, returning, started = _whose(tenant, body, details)
    # Only a visitor resumed (by its own token or verified user id) resumes a chat.
    current = current_conversation(tenant.tenant_id, visitor.visitor_id) if returning else None
    # No token outlives the run of sessions it belongs to.
    ttl = min(rt.config.visitor_token_ttl_seconds,
              started + rt.config.visitor_session_max_seconds - int(rt.clock.now()))
    issued = signer().issue("visitor", tenant.tenant_id, visitor.visitor_id, ttl, vss=started)
    return s.WidgetSessionOut(visitor_id=visitor.visitor_id, visitor_token=issued.token,
                              ws_url=rt.config.ws_public_url,
                              expires_at=iso(datetime.fromtimestamp(issued.expires_at, tz=UTC)),
                              returning=returning,
                              open_conversation_id=current.conversation_id if current is not None else None)


def _whose(tenant: TenantModel, body: s.WidgetSessionIn,
           details: dict[str, str]) -> tuple[VisitorModel, bool, int]:
    """The session's visitor, whether it is an earlier one, and when its run of sessions began."""
    now = int(runtime().clock.now())
    if body.user_id is not None and body.user_hash is not None:
        user_id = identities.verified_user_id(tenant, body.user_id, body.user_hash)
        visitor, returning = identities.verified_visitor(tenant.tenant_id, user_id, details)
        return visitor, returning, now  # verified afresh: a new run of sessions
    resumed = visitors.resume_returning(tenant.tenant_id, body.visitor_token, details)
    if resumed is not None:
        return resumed.visitor, True, resumed.session_started
    visitor_limits.admit_new_visitor(tenant.tenant_id)
    visitor = visitors.new_visitor(tenant.tenant_id, details)
    visitor.save(condition=VisitorModel.visitor_id.does_not_exist())
    return visitor, False, now
