"""Visitor profiles, and finding the visitor a widget session belongs to."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from pynamodb.exceptions import DoesNotExist
from pynamodb.expressions.update import Action

from ..access.principals import Principal
from ..access.tokens import signer
from ..audit.trail import record_event
from ..clock import iso
from ..conversations.queries import conversation_out
from ..errors import Conflict, NotFound, Unauthorized
from ..ids import new_id
from ..runtime import runtime
from ..storage.conversations import ConversationModel
from ..storage.helpers import refusal_means
from ..storage.visitors import VisitorModel
from . import schemas as s

PROFILE_CONVERSATIONS = 20


# Updates hold only for a visitor who exists and was not erased (an update never creates one).
_LIVING = VisitorModel.visitor_id.exists() & VisitorModel.erased_at.does_not_exist()


def _no_such_visitor() -> NotFound:
    return NotFound("No such visitor.")


def find_visitor(tenant_id: str, visitor_id: str) -> VisitorModel | None:
    try:
        return VisitorModel.get(tenant_id, visitor_id, consistent_read=True)
    except DoesNotExist:
        return None


def _get_visitor(tenant_id: str, visitor_id: str) -> VisitorModel:
    visitor = find_visitor(tenant_id, visitor_id)
    if visitor is None:
        raise _no_such_visitor()
    return visitor


# --- Profiles -----------------------------------------------------------------------------
def profile_out(visitor: VisitorModel) -> s.VisitorProfile:
    # This visitor's own conversations only: a verified user is one visitor already, and an email
    # match is a stranger until proven otherwise (shown as a hint, never with its history).
    conversations = ConversationModel.visitor_index.query(
        f"{visitor.tenant_id}#{visitor.visitor_id}", scan_index_forward=False, limit=PROFILE_CONVERSATIONS)
    return s.VisitorProfile(
        visitor_id=visitor.visitor_id, name=visitor.name, email=visitor.email, locale=visitor.locale,
        team=visitor.team, user_id=visitor.user_id, tags=list(visitor.tags), notes=visitor.notes or "",
        possible_match=_possible_match(visitor),
        created_at=iso(visitor.created_at), last_seen_at=iso(visitor.last_seen_at),
        erased_at=iso(visitor.erased_at) if visitor.erased_at else None,
        conversations=[conversation_out(c) for c in conversations])


def _possible_match(visitor: VisitorModel) -> s.PossibleMatch | None:
    """The earlier visitor with the same email, while they still exist (an erased one is no hint)."""
    match = find_visitor(visitor.tenant_id, visitor.known_as) if visitor.known_as else None
    if match is None or match.erased_at is not None:
        return None
    return s.PossibleMatch(visitor_id=match.visitor_id)


def read_profile(principal: Principal, visitor_id: str) -> s.VisitorProfile:
    profile = profile_out(_get_visitor(principal.tenant_id, visitor_id))
    # Agents read the profiles of the visitors they serve all day; reads by the other roles are
    # personal-data access worth an audit record (as transcript reads are).
    if principal.role != "agent":
        record_event(principal.tenant_id, principal.actor, "visitor.read", visitor_id)
    return profile


def update_profile(principal: Principal, visitor_id: str, patch: s.VisitorPatch) -> s.VisitorProfile:
    visitor = _get_visitor(principal.tenant_id, visitor_id)
    changes = patch.model_dump(exclude_unset=True)
    erased = Conflict("This visitor was erased; their profile cannot hold anything again.", code="visitor_erased")
    if visitor.erased_at is not None:
        raise erased
    if changes:
        with refusal_means(erased):  # erased since we read it
            visitor.update(actions=[getattr(VisitorModel, name).set(value) for name, value in changes.items()],
                           condition=_LIVING)
        # Field names only: notes are personal data and never enter the audit trail.
        record_event(principal.tenant_id, principal.actor, "visitor.updated", visitor_id,
                     {"fields": sorted(changes)})
    return profile_out(visitor)


# --- Returning visitors -------------------------------------------------------------------
@dataclass(frozen=True)
class Resumed:
    visitor: VisitorModel
    session_started: int  # epoch seconds: when the visitor's first token of this run was issued


def resume_returning(tenant_id: str, visitor_token: str | None, details: dict[str, str]) -> Resumed | None:
    """The visitor an earlier token of this tenant names, marked seen now with the details the
    widget sent; None when there is no such token, or its session began too long ago (a new visitor)."""
    found = _by_token(tenant_id, visitor_token) if visitor_token else None
    return found if found is not None and mark_seen(found.visitor, details) else None


def new_visitor(tenant_id: str, details: dict[str, str], user_id: str | None = None) -> VisitorModel:
    """A visitor not yet saved. An email match is kept as an unverified hint for agents only."""
    now = runtime().clock.utcnow()
    profile: dict[str, Any] = details  # as pynamodb's Model(**attributes) takes them
    return VisitorModel(tenant_id, new_id("v"), created_at=now, last_seen_at=now, user_id=user_id,
                        known_as=earlier_visitor_with_email(tenant_id, details.get("email")), **profile)


def earlier_visitor_with_email(tenant_id: str, email: str | None) -> str | None:
    """An unverified hint for agents: the id of an earlier visitor with this email, never to become,
    never to be told to the caller."""
    if not email:
        return None
    for match in VisitorModel.email_index.query(tenant_id, VisitorModel.email == email, limit=1):
        return match.visitor_id
    return None


def _by_token(tenant_id: str, token: str) -> Resumed | None:
    try:
        claims = signer().verify(token, ("visitor",), allow_expired=True)
    except Unauthorized:
        return None  # forged or garbage: as if no token was sent
    # Each token carries the start of its visitor's run of sessions (`vss`; tokens from before it
    # was carried: their own iat), so resuming never winds the absolute lifetime back.
    started = claims.get("vss", claims["iat"])
    if claims["tid"] != tenant_id or not isinstance(started, int) \
            or started <= runtime().clock.now() - runtime().config.visitor_session_max_seconds:
        return None  # another tenant's visitor is never this tenant's; a run past its lifetime is a new visit
    visitor = find_visitor(tenant_id, claims["sub"])
    return Resumed(visitor, started) if visitor is not None else None


def mark_seen(visitor: VisitorModel, details: dict[str, str]) -> bool:
    """False if the visitor was erased (then the session gets a new visitor)."""
    actions: list[Action] = [VisitorModel.last_seen_at.set(runtime().clock.utcnow())]
    actions += [getattr(VisitorModel, name).set(value) for name, value in details.items()]
    with refusal_means() as refused:
        visitor.update(actions=actions, condition=_LIVING)
    return not refused
