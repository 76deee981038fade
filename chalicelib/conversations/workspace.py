"""What staff add to a conversation: labels, and private notes the visitor never sees; and what
routing decided about it, read back."""
from __future__ import annotations

from pynamodb.exceptions import DoesNotExist

from ..access.principals import Principal
from ..audit.trail import record_event
from ..clock import iso
from ..errors import Conflict
from ..ids import new_id
from ..runtime import runtime
from ..storage.agents import AgentModel
from ..storage.conversations import ConversationModel, ConversationNoteModel, RoutingDecisionModel
from ..storage.helpers import decode_cursor, encode_cursor, refusal_means, transaction
from ..transcripts.cipher import Sealed, reveal_note, seal_note
from . import schemas as s
from .parties import conversation_key
from .queries import conversation_out, get_conversation, sees_everything

# A conversation holds at most this many notes (each up to 2000 characters).
MAX_NOTES, NOTE_PAGE, ROUTING_PAGE = 200, 50, 100


def set_labels(principal: Principal, conversation_id: str, patch: s.ConversationPatch) -> s.ConversationOut:
    """Replace the labels, only if nobody changed them since the caller read labels_version."""
    conversation = get_conversation(principal, conversation_id)
    version = patch.labels_version
    changed = Conflict("The labels changed meanwhile; reload them and try again.", code="labels_changed")
    if int(conversation.labels_version) != version:
        raise changed
    before = set(conversation.labels)
    unchanged_since = ConversationModel.labels_version == version
    if version == 0:
        unchanged_since = unchanged_since | ConversationModel.labels_version.does_not_exist()
    with refusal_means(changed):
        conversation.update(actions=[ConversationModel.labels.set(patch.labels),
                                     ConversationModel.labels_version.set(version + 1)],
                            condition=ConversationModel.conversation_id.exists() & unchanged_since)
    # Counts only: a label may name a person, and the trail keeps no personal data.
    record_event(principal.tenant_id, principal.actor, "conversation.labelled", conversation_id,
                 {"added": len(set(patch.labels) - before), "removed": len(before - set(patch.labels)),
                  "labels_version": version + 1})
    return conversation_out(conversation)


def add_note(principal: Principal, conversation_id: str, text: str) -> s.NoteOut:
    conversation = get_conversation(principal, conversation_id)
    if conversation.shredded_at is not None or not conversation.data_keys:
        raise Conflict("This conversation's data was erased; it takes no notes.", code="conversation_shredded")
    note_id, now = new_id("n"), runtime().clock.utcnow()
    sealed = seal_note(conversation, note_id, text)
    note = ConversationNoteModel(conversation_key(principal.tenant_id, conversation_id), note_id,
                                 author_id=principal.id, author_name=_author_name(principal), sealed=sealed.blob,
                                 key_version=sealed.key_version, created_at=now)
    count = ConversationModel.note_count
    with refusal_means(Conflict(f"A conversation holds at most {MAX_NOTES} notes.", code="too_many_notes")), \
            transaction() as tx:
        tx.update(conversation, actions=[count.add(1)],
                  condition=ConversationModel.conversation_id.exists() & (count.does_not_exist() | (count < MAX_NOTES)))
        tx.save(note, condition=ConversationNoteModel.note_id.does_not_exist())
    # The note's id only: its text may hold personal data, and never enters the trail or a log.
    record_event(principal.tenant_id, principal.actor, "conversation.note_added", conversation_id, {"note_id": note_id})
    return _note_out(conversation, note)


def _author_name(principal: Principal) -> str | None:
    if principal.name or principal.kind != "agent":
        return principal.name
    try:
        return AgentModel.get(principal.tenant_id, principal.id, attributes_to_get=["name"]).name
    except DoesNotExist:
        return None


def list_notes(principal: Principal, conversation_id: str, cursor: str | None) -> s.NoteList:
    """Oldest first, decrypted; read by any role but agent, audited (notes may name the visitor)."""
    conversation = get_conversation(principal, conversation_id)
    key = conversation_key(principal.tenant_id, conversation_id)
    page = ConversationNoteModel.query(key, consistent_read=True, limit=NOTE_PAGE,
                                       last_evaluated_key=decode_cursor(cursor, {"conversation_key", "note_id"},
                                                                        {"conversation_key": key}))
    items = [_note_out(conversation, note) for note in page]
    if sees_everything(principal):
        record_event(principal.tenant_id, principal.actor, "conversation.notes_read", conversation_id,
                     {"count": len(items)})
    return s.NoteList(items=items, next_cursor=encode_cursor(page.last_evaluated_key))


def _note_out(conversation: ConversationModel, note: ConversationNoteModel) -> s.NoteOut:
    content = reveal_note(conversation, note.note_id, Sealed(note.sealed, int(note.key_version)))
    return s.NoteOut(note_id=note.note_id, author_id=note.author_id, author_name=note.author_name,
                     text=content.text, created_at=iso(note.created_at), redacted=content.redacted,
                     corrupted=content.corrupted)


def routing_of(principal: Principal, conversation_id: str, cursor: str | None) -> s.RoutingList:
    get_conversation(principal, conversation_id)
    key = conversation_key(principal.tenant_id, conversation_id)
    page = RoutingDecisionModel.query(key, consistent_read=True, limit=ROUTING_PAGE,
                                      last_evaluated_key=decode_cursor(cursor, {"conversation_key", "decision_id"},
                                                                       {"conversation_key": key}))
    items = [s.RoutingDecision(at=iso(d.at), event=d.event, reason=d.reason, agent_id=d.agent_id,
                               from_agent_id=d.from_agent_id, team=d.team,
                               load=None if d.load is None else int(d.load),
                               capacity=None if d.capacity is None else int(d.capacity))
             for d in page]
    return s.RoutingList(items=items, next_cursor=encode_cursor(page.last_evaluated_key))
