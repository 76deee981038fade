"""Reading conversations and transcripts over REST: agents see their own, other roles all."""
from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime

from pynamodb.exceptions import DoesNotExist

from ..access.principals import Principal
from ..audit.trail import record_event
from ..clock import iso
from ..errors import NotFound, TooLarge
from ..runtime import runtime
from ..storage.agents import AgentModel
from ..storage.conversations import ConversationModel, MessageModel
from ..storage.helpers import decode_cursor, encode_cursor
from ..transcripts.cipher import reveal
from . import assignment
from . import schemas as s
from .message_store import last_message_seq, visible
from .parties import conversation_key

MESSAGE_PAGE = 100
# The queue view: at most this many waiting conversations per queue, and (for the whole tenant)
# at most this many queues, found from at most this many agents.
QUEUE_VIEW_DEPTH, QUEUE_VIEW_QUEUES, QUEUE_VIEW_AGENTS = 50, 100, 1000


def sees_everything(principal: Principal) -> bool:
    return principal.role != "agent"


def conversation_out(c: ConversationModel) -> s.ConversationOut:
    def when(moment: datetime | None) -> str | None:
        return iso(moment) if moment else None

    return s.ConversationOut(
        conversation_id=c.conversation_id, status=c.status, visitor_id=c.visitor_id, agent_id=c.agent_id,
        team=c.team, priority=int(c.priority), last_seq=last_message_seq(c), resolution=c.resolution,
        created_at=iso(c.created_at), queued_at=when(c.queued_at), assigned_at=when(c.assigned_at),
        first_response_at=when(c.first_response_at), closed_at=when(c.closed_at),
        shredded_at=when(c.shredded_at), channel="email" if c.channel == "email" else "web",
        labels=list(c.labels), labels_version=int(c.labels_version))


def queue_view(principal: Principal) -> s.QueueList:
    """What waits in the queues the caller is routed from (or, for every role but agent, in every
    queue of the tenant), each queue read with one Query on queue-index, head first."""
    waiting = []
    for queue in _queues_of(principal):
        heads = ConversationModel.queue_index.query(assignment.team_key(principal.tenant_id, queue),
                                                    limit=QUEUE_VIEW_DEPTH)
        waiting += [(head.queue_sort, queue, position, head) for position, head in enumerate(heads, start=1)]
    items = []
    for _, queue, position, head in sorted(waiting, key=lambda entry: entry[:2]):
        priority, queued_at = assignment.read_queue_sort(head.queue_sort)
        items.append(s.QueueItem(conversation_id=head.conversation_id, visitor_id=head.visitor_id,
                                 team=None if queue == assignment.ANY_TEAM else queue, priority=priority,
                                 queued_at=queued_at, position=position))
    return s.QueueList(items=items)


def _queues_of(principal: Principal) -> list[str]:
    """An agent's: the queues routing serves them from. Anyone else's: the tenant's every queue, as
    its agents' teams and tiers name them (plus each tier's next, where its escalations wait)."""
    if not sees_everything(principal):
        if principal.kind != "agent":
            return []  # an agent-role API key is nobody routing serves
        try:
            return assignment.routing_keys(AgentModel.get(principal.tenant_id, principal.id))
        except DoesNotExist:
            return []
    teams, tiers = {assignment.ANY_TEAM}, set()
    for agent in AgentModel.query(principal.tenant_id, attributes_to_get=["teams", "tier"],
                                  limit=QUEUE_VIEW_AGENTS):
        teams.update(agent.teams)
        tiers.add(int(agent.tier))
    queues = teams | {assignment.tier_queue(t) for tier in tiers for t in (tier, tier + 1)}
    return sorted(queues, key=lambda queue: (queue != assignment.ANY_TEAM, queue))[:QUEUE_VIEW_QUEUES]


def get_conversation(principal: Principal, conversation_id: str) -> ConversationModel:
    try:
        conversation = ConversationModel.get(principal.tenant_id, conversation_id, consistent_read=True)
    except DoesNotExist:
        raise NotFound("No such conversation.") from None
    if not sees_everything(principal) and conversation.agent_id != principal.id:
        raise NotFound("No such conversation.")
    return conversation


def list_messages(principal: Principal, conversation_id: str, cursor: str | None) -> s.MessageList:
    conversation = get_conversation(principal, conversation_id)
    key = conversation_key(principal.tenant_id, conversation_id)
    page = MessageModel.query(key, consistent_read=True, limit=MESSAGE_PAGE,
                              last_evaluated_key=decode_cursor(cursor, {"conversation_key", "seq"},
                                                               {"conversation_key": key}))
    items = [_message_out(conversation, message) for message in visible(page)]
    if sees_everything(principal):
        record_event(principal.tenant_id, principal.actor, "transcript.read",
                     conversation_id, {"first_seq": items[0].seq if items else None, "count": len(items)})
    return s.MessageList(items=items, next_cursor=encode_cursor(page.last_evaluated_key))


# A download is one response: Lambda answers at most 6 MB, so a longer transcript is paged instead.
TRANSCRIPT_MAX_BYTES = 5 * 1024 * 1024


def transcript(principal: Principal, conversation_id: str) -> s.Transcript:
    """The whole conversation, decrypted, for download; every download is audited."""
    conversation = get_conversation(principal, conversation_id)
    messages, size = [], 0
    for out in messages_of(conversation):
        size += len(out.model_dump_json())
        if size > TRANSCRIPT_MAX_BYTES:
            raise TooLarge("This transcript is too long to download at once; page through "
                           f"/v1/conversations/{conversation_id}/messages instead.",
                           code="transcript_too_large")
        messages.append(out)
    record_event(principal.tenant_id, principal.actor, "transcript.exported", conversation_id,
                 {"count": len(messages)})
    return s.Transcript(conversation=conversation_out(conversation), messages=messages,
                        exported_at=iso(runtime().clock.utcnow()))


def messages_of(conversation: ConversationModel) -> Iterator[s.MessageOut]:
    """Every message of the conversation in seq order, decrypted (the caller checked who may read it
    and audits the reading)."""
    key = conversation_key(conversation.tenant_id, conversation.conversation_id)
    for message in visible(MessageModel.query(key, consistent_read=True, page_size=MESSAGE_PAGE)):
        yield _message_out(conversation, message)


def transcript_text(transcript: s.Transcript) -> str:
    """The plain-text download: a header, then one line per message (continuations indented)."""
    c = transcript.conversation
    lines = [f"Conversation {c.conversation_id} ({c.status}{', ' + c.resolution if c.resolution else ''})",
             f"Visitor: {c.visitor_id}", f"Agent: {c.agent_id or '-'}",
             f"Started: {c.created_at}", f"Closed: {c.closed_at or '-'}",
             f"Exported: {transcript.exported_at}", ""]
    for m in transcript.messages:
        who = m.sender.name or m.sender.kind.title()
        who = f"{who} ({m.sender.kind})" if m.sender.name else who
        text = m.text if m.text is not None else ("[corrupted]" if m.corrupted else "[redacted]")
        first, *rest = text.split("\n")
        lines.append(f"[{m.sent_at}] #{m.seq} {who}: {first}")
        lines += [f"    {line}" for line in rest]
        lines += [f"    [file: {a.filename}, {a.content_type}, {a.size} bytes, {a.attachment_id}]"
                  for a in m.attachments]
    return "\n".join(lines) + "\n"


def _message_out(conversation: ConversationModel, message: MessageModel) -> s.MessageOut:
    content = reveal(conversation, message)
    return s.MessageOut(seq=int(message.seq),
                        sender=s.Sender(kind=message.sender_kind, id=message.sender_id, name=message.sender_name),
                        text=content.text, sent_at=iso(message.sent_at), corrupted=content.corrupted,
                        redacted=content.redacted,
                        attachments=[s.AttachmentRef.model_validate(ref) for ref in content.attachments],
                        email_status=message.email_status)
