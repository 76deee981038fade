"""What the widget reads before a chat starts, and what an admin pastes into their pages.

GET /v1/widget/{widget_key}/config is public (the key is on every page of the tenant's site): it
answers only what the widget shows anyway (its style, the tenant's default language, whether the desk
is open now, the tenant's own offline and survey texts) and never who the tenant's people are. A bad
or rotated key is 404 like a session's; every read is counted against the source address's budget of
visitor requests, before the key is looked up, so guessing keys costs the guesser.
"""
from __future__ import annotations

from chalice import Response

from ..access import visitor_limits
from ..access.principals import Principal
from ..attachments import ALLOWED
from ..conversations.hours import is_open
from ..runtime import runtime
from ..storage.settings import Settings
from ..storage.tenants import get_tenant
from . import schemas as s
from .widget_sessions import tenant_for_widget_key

# A page load reads the config; a visitor's browser may keep it this long (a change shows within it).
CONFIG_MAX_AGE_SECONDS = 60


def widget_config(widget_key: str, source_ip: str) -> Response:
    visitor_limits.count_source_request(source_ip)
    settings = Settings.model_validate(tenant_for_widget_key(widget_key).settings)
    config = s.WidgetConfig(
        **settings.widget.model_dump(mode="json"), default_locale=settings.default_locale,
        open=is_open(settings, runtime().clock.utcnow()),
        # The tenant's own words, or null: the widget then says its own in the visitor's language.
        offline_message=settings.offline_message, survey_question=settings.survey_question,
        attachments_max_bytes=settings.attachments_max_bytes, attachment_types=sorted(ALLOWED))
    return Response(body=config.model_dump(mode="json"),
                    headers={"Content-Type": "application/json",
                             "Cache-Control": f"public, max-age={CONFIG_MAX_AGE_SECONDS}"})


def widget_embed(principal: Principal) -> s.WidgetEmbed:
    public_url = runtime().config.public_url
    return s.WidgetEmbed(widget_key=get_tenant(principal.tenant_id).widget_key,
                         script_url=f"{public_url}/widget.js" if public_url else "/widget.js")
