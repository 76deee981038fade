"""A conversation's survey for staff: who can read the conversation can read its survey."""
from __future__ import annotations

from pynamodb.exceptions import DoesNotExist

from ..access.principals import Principal
from ..audit.trail import record_event
from ..clock import iso
from ..errors import NotFound
from ..storage.conversations import ConversationModel
from ..storage.surveys import SurveyModel
from ..surveys import schemas as s
from ..transcripts.cipher import Sealed, reveal_comment
from .queries import get_conversation


def survey_of(principal: Principal, conversation_id: str) -> s.SurveyOut:
    conversation = get_conversation(principal, conversation_id)
    try:
        survey = SurveyModel.get(principal.tenant_id, conversation_id, consistent_read=True)
    except DoesNotExist:
        raise NotFound("This conversation has no survey (yet).") from None
    if survey.comment_sealed is not None and principal.role != "agent":
        # the visitor's own words: read like a transcript, audited alike
        record_event(principal.tenant_id, principal.actor, "survey.read", conversation_id)
    return survey_out(conversation, survey)


def survey_out(conversation: ConversationModel, survey: SurveyModel) -> s.SurveyOut:
    """The survey with its comment decrypted (the caller checked who may read it and audits the reading)."""
    comment = None
    if survey.comment_sealed is not None:
        comment = reveal_comment(conversation, Sealed(survey.comment_sealed, int(survey.comment_key_version)))
    return s.SurveyOut(conversation_id=conversation.conversation_id, agent_id=survey.agent_id,
                       channel=survey.channel,
                       sent_at=iso(survey.sent_at), expires_at=iso(survey.expires_at),
                       rating=int(survey.rating) if survey.rating is not None else None,
                       comment=comment.text if comment else None,
                       comment_redacted=bool(comment and comment.redacted),
                       answered_at=iso(survey.answered_at) if survey.answered_at else None)
