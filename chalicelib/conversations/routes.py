"""REST routes for conversations and transcripts."""
from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

from chalice import Blueprint, Response

from ..access.roles import STAFF
from ..lazy import lazy_module, lazy_modules
from ..web.routing import Call, endpoint

if TYPE_CHECKING:
    from ..surveys import schemas as survey_schemas
    from . import queries, survey_reading
    from . import schemas as s
else:  # loaded by the first request that needs them (see chalicelib/lazy.py); the schemas too:
    # the handlers' annotations name the models, read on a route's first call (chalicelib/web/routing.py)
    s, queries, survey_reading = lazy_modules(__package__, "schemas", "queries", "survey_reading")
    survey_schemas = lazy_module("chalicelib.surveys.schemas")

bp = Blueprint(__name__)
TAG = "conversations"


@endpoint(bp, "GET", "/v1/conversations", summary="List conversations (agents: their own)", tag=TAG,
          auth=STAFF)
def list_conversations(call: Call[None, s.ConversationQuery]) -> s.ConversationList:
    return queries.list_conversations(call.principal, call.query)


@endpoint(bp, "GET", "/v1/conversations/{conversation_id}", summary="One conversation", tag=TAG,
          auth=STAFF, errors=(404,))
def get_conversation(call: Call[None], conversation_id: str) -> s.ConversationOut:
    return queries.conversation_out(queries.get_conversation(call.principal, conversation_id))


@endpoint(bp, "GET", "/v1/conversations/{conversation_id}/messages",
          summary="A conversation's messages, decrypted, page by page", tag=TAG, auth=STAFF, errors=(404,))
def list_messages(call: Call[None, s.MessagesQuery], conversation_id: str) -> s.MessageList:
    return queries.list_messages(call.principal, conversation_id, call.query.cursor)


@endpoint(bp, "GET", "/v1/conversations/{conversation_id}/transcript",
          summary="Download the whole transcript: JSON, or plain text with ?format=text", tag=TAG,
          auth=STAFF, errors=(404, 413))
def download_transcript(call: Call[None, s.TranscriptQuery], conversation_id: str) -> Annotated[Response, s.Transcript]:
    transcript = queries.transcript(call.principal, conversation_id)
    text = call.query.format == "text"
    return Response(
        body=queries.transcript_text(transcript) if text else transcript.model_dump(mode="json"),
        headers={"Content-Type": "text/plain; charset=utf-8" if text else "application/json",
                 "Content-Disposition":
                     f'attachment; filename="transcript-{conversation_id}.{"txt" if text else "json"}"'})


@endpoint(bp, "GET", "/v1/queue", summary="Conversations waiting in the queues you are routed from "
          "(supervisors and admins: every queue)", tag=TAG, auth=STAFF)
def queue(call: Call[None]) -> s.QueueList:
    return queries.queue_view(call.principal)


@endpoint(bp, "GET", "/v1/conversations/{conversation_id}/survey", summary="A conversation's survey and answer",
          tag="surveys", auth=STAFF, errors=(404,))
def conversation_survey(call: Call[None], conversation_id: str) -> survey_schemas.SurveyOut:
    return survey_reading.survey_of(call.principal, conversation_id)
