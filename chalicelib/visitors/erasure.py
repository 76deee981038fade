"""Erasing a visitor (the right to be forgotten) by crypto-shredding.

In order, so that a failure part-way leaves nothing readable and a repeat finishes the job:
1. one transaction turns the profile into a tombstone: every personal field (the email hint and
   the verified user id too) and the visitor's wrapped keys go, erased_at is set, and a verified
   user's link to the visitor is deleted (from here no key anywhere opens their messages, no new
   conversation is opened for them, their tokens stop working, and their user id finds nothing);
2. their open WebSocket connections are closed (one that cannot be reached is logged, not fatal);
3. each of their conversations is closed if open and loses its own wrapped keys, so no container
   holding a cached visitor key can open it either (its sealed files are deleted too: unreadable already,
   and its email threading records: storage/email_threads.py);
4. once all that is done, a signed receipt naming the keys and records destroyed goes on the trail
   (erasure_receipt.py; in numbered parts when it outgrows one audit event).
"""
from __future__ import annotations

from pynamodb.exceptions import DoesNotExist
from pynamodb.expressions.condition import size

from ..access.principals import Principal
from ..attachments.service import delete_files
from ..audit.trail import record_event
from ..clock import iso
from ..conversations.closing import end
from ..errors import Conflict, NotFound
from ..realtime.connections import connection_ids_of
from ..realtime.sender import sender
from ..runtime import runtime
from ..storage.conversations import ConversationModel
from ..storage.email_threads import forget_conversation
from ..storage.helpers import refusal_means, transaction
from ..storage.visitors import VisitorModel
from ..transcripts.keys import key_ring
from ..transcripts.shredding import shred_closed
from . import identities
from . import schemas as s
from .erasure_receipt import write_receipt

PERSONAL_FIELDS = ("name", "email", "locale", "team", "notes", "known_as", "user_id")
# Closing races with the parties' own actions (an agent's reply, a transfer): retried this often.
CLOSE_ATTEMPTS = 5
# The tombstone is refused when a key was added since the visitor was read (a rotation): read again.
TOMBSTONE_ATTEMPTS = 5


def erase(principal: Principal, visitor_id: str) -> s.ErasureOut:
    visitor = _tombstone(principal.tenant_id, visitor_id)
    key_ring().forget_visitor(principal.tenant_id, visitor_id, (visitor.erasure or {}).get("key_versions", []))
    shredded, finished, conversation_ids = 0, False, []
    try:
        # A socket that cannot be reached is logged and left to close with its token dead; it never
        # stops the rest (realtime/sender.py).
        for connection_id in connection_ids_of(principal.tenant_id, "visitor", visitor_id):
            sender().disconnect(connection_id)
        for conversation in ConversationModel.visitor_index.query(f"{principal.tenant_id}#{visitor_id}"):
            shredded += _shred(conversation, principal.actor)
            delete_files(conversation)  # unreadable once shredded; this frees the space
            # Its mail threading: Message-IDs name the visitor's address and would thread a reply into it.
            forget_conversation(principal.tenant_id, conversation.conversation_id)
            conversation_ids.append(conversation.conversation_id)
        finished = True
    finally:
        # From step 1 on, the visitor is erased: the trail says so even when a later step failed
        # (the event says so too; erasing again finishes the job and records it again).
        record_event(principal.tenant_id, principal.actor, "visitor.erased", visitor_id,
                     {"conversations_shredded": shredded, **({} if finished else {"unfinished": True})})
    # Only a finished erasure is receipted: an unfinished one has left keys a receipt would deny.
    write_receipt(principal, visitor, conversation_ids)
    return s.ErasureOut(visitor_id=visitor_id, erased_at=iso(visitor.erased_at), conversations_shredded=shredded)


def _tombstone(tenant_id: str, visitor_id: str) -> VisitorModel:
    """Step 1, done once: the visitor as the tombstone left it, with the key versions it removed.

    The write is conditioned on the visitor holding exactly the keys read (keys are only ever added),
    so the versions the receipt names are the ones destroyed, even with a rotation racing the erasure."""
    for _ in range(TOMBSTONE_ATTEMPTS):
        try:
            visitor = VisitorModel.get(tenant_id, visitor_id, consistent_read=True)
        except DoesNotExist:
            raise NotFound("No such visitor.") from None
        if visitor.erased_at is not None:
            return visitor
        now = runtime().clock.utcnow()
        versions = sorted(int(v) for v in visitor.data_keys.as_dict())
        held = size(VisitorModel.data_keys) == len(versions)
        facts = {"key_versions": versions, "identity_link_removed": visitor.user_id is not None}
        with refusal_means() as refused, transaction() as tx:
            tx.update(visitor, actions=[
                VisitorModel.erased_at.set(now), VisitorModel.erasure.set(facts), VisitorModel.data_keys.remove(),
                VisitorModel.tags.set([]), *(getattr(VisitorModel, name).remove() for name in PERSONAL_FIELDS)],
                condition=VisitorModel.visitor_id.exists() & VisitorModel.erased_at.does_not_exist()
                & (held if versions else VisitorModel.data_keys.does_not_exist() | held))
            identities.forget(tx, visitor)  # a verified user's next session is a new visitor
        if not refused:
            visitor.erased_at, visitor.erasure = now, facts
            return visitor
    raise Conflict("The visitor's keys kept changing; erase again to finish.")


def _shred(conversation: ConversationModel, actor: dict[str, str]) -> bool:
    if conversation.shredded_at is not None:
        return False
    for _ in range(CLOSE_ATTEMPTS):
        if conversation.status == "closed":
            return shred_closed(conversation.tenant_id, conversation.conversation_id,
                                runtime().clock.utcnow()) is not None
        try:
            end(conversation, None, actor, shred=True)
            return True
        except Conflict:
            conversation.refresh(consistent_read=True)
    raise Conflict("The visitor's conversations kept changing; erase again to finish.")
