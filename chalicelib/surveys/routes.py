"""Survey answers (public, with the token), the hosted survey page, and follow-up tasks."""
from __future__ import annotations

from typing import TYPE_CHECKING

from chalice import Blueprint, Response

from ..access.roles import SUPERVISOR_UP
from ..lazy import lazy_modules
from ..web.routing import PUBLIC, Call, PublicCall, endpoint

if TYPE_CHECKING:
    from . import followups, page, service
    from . import schemas as s
else:  # loaded by the first request that needs them (see chalicelib/lazy.py); the schemas too:
    # the handlers' annotations name the models, read on a route's first call (chalicelib/web/routing.py)
    s, followups, page, service = lazy_modules(__package__, "schemas", "followups", "page", "service")

bp = Blueprint(__name__)
TAG = "surveys"


@endpoint(bp, "POST", "/v1/surveys/{survey_token}", summary="Answer a survey (once; the token is the credential)",
          tag=TAG, auth=PUBLIC, errors=(404, 409, 410),
          cors=True)
def answer_survey(call: PublicCall[s.SurveyAnswer], survey_token: str) -> s.SurveyAnswered:
    return service.answer(survey_token, call.body)


@endpoint(bp, "GET", "/survey/{survey_token}", summary="The hosted survey page (HTML) for visitors from the email",
          tag=TAG, auth=PUBLIC, errors=(404, 410), html_errors=True)
def survey_page(call: PublicCall[None], survey_token: str) -> Response:
    return page.survey_page(survey_token, call.headers.get("accept-language"))


@endpoint(bp, "GET", "/survey.js", summary="The survey page's script", tag=TAG, auth=PUBLIC)
def survey_script(call: PublicCall[None]) -> Response:
    return page.survey_script()


@endpoint(bp, "GET", "/v1/follow-ups", summary="Follow-up tasks: unresolved closes and ratings of 1 or 2",
          tag=TAG, auth=SUPERVISOR_UP)
def list_follow_ups(call: Call[None, s.FollowUpQuery]) -> s.FollowUpList:
    return followups.list_follow_ups(call.principal, call.query)


@endpoint(bp, "POST", "/v1/follow-ups/{follow_up_id}/close", summary="Close a follow-up task, with an optional note",
          tag=TAG, auth=SUPERVISOR_UP, errors=(404, 409))
def close_follow_up(call: Call[s.FollowUpClose], follow_up_id: str) -> s.FollowUpOut:
    return followups.close_follow_up(call.principal, follow_up_id, call.body)
