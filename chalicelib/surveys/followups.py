"""Follow-up tasks: a conversation closed unresolved, or rated 1 or 2, needs a supervisor's look."""
from __future__ import annotations

from datetime import datetime

from pynamodb.exceptions import DoesNotExist

from ..access.principals import Principal
from ..audit.trail import record_event
from ..clock import iso
from ..errors import Conflict, NotFound
from ..runtime import runtime
from ..storage.helpers import decode_cursor, encode_cursor, refusal_means
from ..storage.surveys import FollowUpModel
from . import schemas as s

PAGE = 100


def open_follow_up(tenant_id: str, conversation_id: str, reason: str, agent_id: str | None,
                   at: datetime, rating: int | None = None) -> None:
    """At most one per conversation and reason, however often the cause is reported."""
    with refusal_means():
        FollowUpModel(tenant_id, f"{conversation_id}.{reason}", conversation_id=conversation_id, reason=reason,
                      agent_id=agent_id, rating=rating, status="open", created_at=at
                      ).save(condition=FollowUpModel.follow_up_id.does_not_exist())


def follow_up_out(item: FollowUpModel) -> s.FollowUpOut:
    return s.FollowUpOut(follow_up_id=item.follow_up_id, conversation_id=item.conversation_id, reason=item.reason,
                         agent_id=item.agent_id, rating=int(item.rating) if item.rating is not None else None,
                         status=item.status, created_at=iso(item.created_at),
                         closed_at=iso(item.closed_at) if item.closed_at else None, closed_by=item.closed_by,
                         note=item.note)


def list_follow_ups(principal: Principal, query: s.FollowUpQuery) -> s.FollowUpList:
    condition = FollowUpModel.status == query.status if query.status else None
    page = FollowUpModel.query(principal.tenant_id, filter_condition=condition, limit=PAGE,
                               last_evaluated_key=decode_cursor(query.cursor, {"tenant_id", "follow_up_id"},
                                                                {"tenant_id": principal.tenant_id}))
    return s.FollowUpList(items=[follow_up_out(item) for item in page],
                          next_cursor=encode_cursor(page.last_evaluated_key))


def close_follow_up(principal: Principal, follow_up_id: str, body: s.FollowUpClose) -> s.FollowUpOut:
    try:
        item = FollowUpModel.get(principal.tenant_id, follow_up_id, consistent_read=True)
    except DoesNotExist:
        raise NotFound("No such follow-up.") from None
    with refusal_means(Conflict("This follow-up is already closed.", code="already_closed")):
        item.update(actions=[FollowUpModel.status.set("closed"), FollowUpModel.closed_at.set(runtime().clock.utcnow()),
                             FollowUpModel.closed_by.set(principal.actor),
                             # pynamodb types set() without None; a null=True attribute stores it as NULL.
                             FollowUpModel.note.set(body.note)],  # type: ignore[arg-type]
                    condition=FollowUpModel.status == "open")
    record_event(principal.tenant_id, principal.actor, "follow_up.closed", follow_up_id,
                 {"conversation_id": item.conversation_id})
    return follow_up_out(item)
