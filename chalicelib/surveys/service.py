"""Satisfaction surveys: scheduled at close, sent once by the `send-surveys` job, answered once.

The job finds due conversations through the sparse, sharded survey-index (never a scan). It claims
each with a conditional put of its survey record (so no conversation is ever surveyed twice, even by
overlapping runs), sends a `survey.request` frame to the visitor's open connections or else an email
through SES when the visitor gave one (fixed text and the link only: chalicelib/mail decides whether
the address may get it), and only then takes the conversation out of the index. Both speak the
visitor's language, which the survey's token records for the survey page.
"""
from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import Any

from pynamodb.exceptions import DoesNotExist
from pynamodb.expressions.update import Action

from .. import events
from ..access.tokens import signer
from ..clock import iso
from ..errors import ApiError, Conflict, NotFound, Unauthorized
from ..i18n import negotiate
from ..mail import texts
from ..mail.sending import send_to_visitor
from ..realtime.connections import connection_ids_of
from ..realtime.sender import sender
from ..reports import counters
from ..runtime import Budget, runtime
from ..storage.conversations import ConversationModel
from ..storage.helpers import all_shards, refusal_means, shard
from ..storage.settings import Settings
from ..storage.surveys import SurveyModel
from ..storage.sweeps import Sweep
from ..storage.tenants import TenantModel
from ..storage.visitors import VisitorModel
from ..transcripts.cipher import seal_comment
from ..transcripts.keys import Shredded
from . import schemas as s
from .followups import open_follow_up

log = logging.getLogger("switchboard.surveys")
TOKEN_DAYS = 7
PREFIX = "survey"
LOW_RATINGS = (1, 2)
RESERVE_SECONDS = 10  # of the job's 30-second Lambda: a page of surveys takes a few seconds


class Expired(ApiError):
    status, code = 410, "survey_expired"


def schedule_actions(conversation: ConversationModel, closed_at: datetime, settings: Settings) -> list[Any]:
    """What closing adds so send-surveys finds the conversation when its survey is due."""
    if not settings.survey_enabled:
        return []
    return [ConversationModel.survey_shard.set(shard(PREFIX, conversation.conversation_id)),
            ConversationModel.survey_due_at.set(closed_at + timedelta(seconds=settings.survey_delay_seconds))]


def survey_url(token: str) -> str:
    return f"{runtime().config.public_url}/survey/{token}"


# --- send-surveys --------------------------------------------------------------------------------
def send_surveys(context: Any = None) -> dict[str, Any]:
    """The summary counts each due conversation once: by the channel its survey went by, or why it went
    by none (no way to reach the visitor; `suppressed`, `capped_tenant`, `capped_address`: an email it
    could not get), or `skipped` (another run had it), or `failed`. A run handles bounded pages and
    stops when its budget is spent; the next run takes up the pass there (chalicelib/storage/sweeps.py)."""
    now = runtime().clock.utcnow()
    sent: dict[str, Any] = {"websocket": 0, "email": 0, "none": 0, "suppressed": 0, "capped_tenant": 0,
                            "capped_address": 0, "skipped": 0, "failed": 0}
    tenants: dict[str, TenantModel] = {}
    sweep: Sweep[str] = Sweep("send-surveys", Budget(runtime().config.sweep_items_per_run, context,
                                                     RESERVE_SECONDS))

    def due(survey_shard: str, after: dict[str, Any] | None, limit: int) -> Any:
        return ConversationModel.survey_index.query(survey_shard, ConversationModel.survey_due_at <= now,
                                                    limit=limit, last_evaluated_key=after)

    for _, page in sweep.pages(_shards_from, lambda survey_shard: survey_shard, due):
        for conversation in page:
            try:
                outcome = _survey_one(conversation.tenant_id, conversation.conversation_id, now, tenants)
            except Exception:  # one failure (SES refusing an address...) must not stop the others
                log.exception("survey of %s failed", conversation.conversation_id)
                outcome = "failed"
            sent[outcome or "skipped"] += 1
    sent["pass_finished"] = sweep.finished
    return sent


def _shards_from(survey_shard: str | None) -> list[str]:
    shards = all_shards(PREFIX)
    return shards[shards.index(survey_shard):] if survey_shard else shards


def _survey_one(tenant_id: str, conversation_id: str, now: datetime, tenants: dict[str, TenantModel]) -> str | None:
    try:
        conversation = ConversationModel.get(tenant_id, conversation_id, consistent_read=True)
    except DoesNotExist:
        return None
    if conversation.survey_due_at is None:
        return None  # another run dealt with it after this one read the index
    survey = SurveyModel(tenant_id, conversation_id, agent_id=conversation.agent_id,
                         conversation_created_at=conversation.created_at, sent_at=now, channel="none",
                         expires_at=now + timedelta(days=TOKEN_DAYS))
    with refusal_means() as refused:
        survey.save(condition=SurveyModel.conversation_id.does_not_exist())
    if refused:
        _unschedule(conversation)  # claimed before: never a second survey
        return None
    if tenant_id not in tenants:
        tenants[tenant_id] = TenantModel.get(tenant_id)
    outcome = _deliver(conversation, tenants[tenant_id])
    survey.update(actions=[SurveyModel.channel.set(outcome if outcome in ("websocket", "email") else "none")])
    _unschedule(conversation)
    return outcome


def _unschedule(conversation: ConversationModel) -> None:
    conversation.update(actions=[ConversationModel.survey_shard.remove(), ConversationModel.survey_due_at.remove()])


def _deliver(conversation: ConversationModel, tenant: TenantModel) -> str:
    try:
        visitor: VisitorModel | None = VisitorModel.get(conversation.tenant_id, conversation.visitor_id)
    except DoesNotExist:
        visitor = None
    settings = Settings.model_validate(tenant.settings)
    # The visitor's language, recorded in the token: the survey page speaks it too.
    locale = negotiate(visitor.locale if visitor else None, settings.default_locale)
    token = signer().issue("survey", conversation.tenant_id, conversation.conversation_id,
                           TOKEN_DAYS * 86400, lng=locale).token
    frame = {"type": "survey.request", "conversation_id": conversation.conversation_id, "survey_token": token,
             "survey_url": survey_url(token), "question": settings.survey_text(locale)}
    if sender().send_all(connection_ids_of(conversation.tenant_id, "visitor", conversation.visitor_id), frame):
        return "websocket"
    if visitor is None or not visitor.email or visitor.erased_at is not None:
        return "none"
    # Neither the visitor's name nor the tenant's own question: an email carries fixed text only.
    return send_to_visitor(tenant.tenant_id, tenant.name, visitor.email, texts.survey_subject(locale),
                           texts.survey_email(texts.business(tenant.name, locale), survey_url(token), locale), locale)


# --- Answers -------------------------------------------------------------------------------------
def token_locale(token: str) -> str | None:
    """The language a survey token was issued in (None for a bad token, or one from before it was recorded)."""
    try:
        locale = signer().verify(token, ("survey",), allow_expired=True).get("lng")
    except Unauthorized:
        return None
    return locale if isinstance(locale, str) else None


def survey_for_token(token: str) -> SurveyModel:
    """The survey a token names: 404 for a bad token, 410 once expired."""
    try:
        claims = signer().verify(token, ("survey",), allow_expired=True)
    except Unauthorized:
        raise NotFound("No such survey.") from None
    try:
        survey = SurveyModel.get(claims["tid"], claims["sub"], consistent_read=True)
    except DoesNotExist:
        raise NotFound("No such survey.") from None
    if claims["exp"] <= runtime().clock.now():
        raise Expired("This survey has expired.")
    return survey


def answer(token: str, body: s.SurveyAnswer) -> s.SurveyAnswered:
    survey = survey_for_token(token)
    now = runtime().clock.utcnow()
    actions: list[Action] = [SurveyModel.rating.set(body.rating), SurveyModel.answered_at.set(now)]
    if body.comment:
        try:
            sealed = seal_comment(ConversationModel.get(survey.tenant_id, survey.conversation_id), body.comment)
        except (DoesNotExist, Shredded):
            raise NotFound("No such survey.") from None  # the conversation was erased since
        actions += [SurveyModel.comment_sealed.set(sealed.blob),
                    SurveyModel.comment_key_version.set(sealed.key_version)]
    with refusal_means(Conflict("This survey was already answered.", code="already_answered")):
        survey.update(actions=actions, condition=SurveyModel.rating.does_not_exist())
    counters.survey_answered(survey.tenant_id, survey.conversation_id, survey.conversation_created_at, survey.agent_id,
                             body.rating)
    events.publish(survey.tenant_id, "survey.answered", {  # the rating, never the comment
        "conversation_id": survey.conversation_id, "agent_id": survey.agent_id, "rating": body.rating,
        "commented": bool(body.comment), "answered_at": iso(now)})
    if body.rating in LOW_RATINGS:
        open_follow_up(survey.tenant_id, survey.conversation_id, "low_rating", survey.agent_id, now, body.rating)
    return s.SurveyAnswered(conversation_id=survey.conversation_id, rating=body.rating, answered_at=iso(now))
