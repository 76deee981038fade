"""REST routes for conversations and transcripts."""
from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

from chalice import Blueprint, Response

from ..access.roles import DESK, STAFF
from ..lazy import lazy_module, lazy_modules
from ..web.routing import Call, endpoint

if TYPE_CHECKING:
    from ..surveys import schemas as survey_schemas
    from . import listing, queries, survey_reading, workspace
    from . import schemas as s
else:  # loaded by the first request that needs them (see chalicelib/lazy.py); the schemas too:
    # the handlers' annotations name the models, read on a route's first call (chalicelib/web/routing.py)
    s, queries, survey_reading, listing, workspace = lazy_modules(
        __package__, "schemas", "queries", "survey_reading", "listing", "workspace")
    survey_schemas = lazy_module("chalicelib.surveys.schemas")

bp = Blueprint(__name__)
TAG = "conversations"


@endpoint(bp, "GET", "/v1/conversations", summary="List conversations, newest first, filtered (agents: their own)",
          tag=TAG, auth=STAFF)
def list_conversations(call: Call[None, s.ConversationQuery]) -> s.ConversationList:
    return listing.list_conversations(call.principal, call.query)


@endpoint(bp, "GET", "/v1/conversations/search", summary="Search conversations: metadata, and with text=true "
          "their messages (decrypted server-side, a bounded page a request, each read audited)", tag=TAG, auth=STAFF)
def search_conversations(call: Call[None, s.SearchQuery]) -> s.SearchResult:
    return listing.search(call.principal, call.query)


@endpoint(bp, "GET", "/v1/conversations/{conversation_id}", summary="One conversation", tag=TAG,
          auth=STAFF, errors=(404,))
def get_conversation(call: Call[None], conversation_id: str) -> s.ConversationOut:
    return queries.conversation_out(queries.get_conversation(call.principal, conversation_id))


@endpoint(bp, "PATCH", "/v1/conversations/{conversation_id}", summary="Replace a conversation's labels",
          tag=TAG, auth=DESK, errors=(404, 409))
def patch_conversation(call: Call[s.ConversationPatch], conversation_id: str) -> s.ConversationOut:
    return workspace.set_labels(call.principal, conversation_id, call.body)


@endpoint(bp, "GET", "/v1/conversations/{conversation_id}/notes", summary="A conversation's private notes "
          "(staff only, never the visitor), oldest first", tag=TAG, auth=STAFF, errors=(404,))
def list_notes(call: Call[None, s.MessagesQuery], conversation_id: str) -> s.NoteList:
    return workspace.list_notes(call.principal, conversation_id, call.query.cursor)


@endpoint(bp, "POST", "/v1/conversations/{conversation_id}/notes", summary="Add a private note to a conversation",
          tag=TAG, auth=DESK, status=201, errors=(404, 409))
def add_note(call: Call[s.NoteIn], conversation_id: str) -> s.NoteOut:
    return workspace.add_note(call.principal, conversation_id, call.body.text)


@endpoint(bp, "GET", "/v1/conversations/{conversation_id}/routing", summary="Why the conversation went where "
          "it went: each routing decision with its reason, oldest first", tag=TAG, auth=STAFF, errors=(404,))
def routing(call: Call[None, s.MessagesQuery], conversation_id: str) -> s.RoutingList:
    return workspace.routing_of(call.principal, conversation_id, call.query.cursor)


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
