"""REST routes of the reports: supervisors and admins."""
from __future__ import annotations

from typing import TYPE_CHECKING

from chalice import Blueprint, Response

from ..access.roles import SUPERVISOR_UP
from ..lazy import lazy_modules
from ..web.routing import Call, endpoint

if TYPE_CHECKING:
    from . import conversation_rows
    from . import schemas as s
    from . import summary as reports
else:  # loaded by the first request that needs them (see chalicelib/lazy.py); the schemas too:
    # the handlers' annotations name the models, read on a route's first call (chalicelib/web/routing.py)
    s, reports, conversation_rows = lazy_modules(__package__, "schemas", "summary", "conversation_rows")

bp = Blueprint(__name__)
TAG = "reports"


@endpoint(bp, "GET", "/v1/reports/summary", summary="Conversations, response times, CSAT and SLA over a range",
          tag=TAG, auth=SUPERVISOR_UP)
def summary(call: Call[None, s.SummaryQuery]) -> s.Summary:
    return reports.summary(call.principal, call.query)


@endpoint(bp, "GET", "/v1/reports/summary.csv", summary="The same summary as CSV (section, name, value)",
          tag=TAG, auth=SUPERVISOR_UP)
def summary_csv(call: Call[None, s.SummaryQuery]) -> Response:
    return _csv(reports.summary_csv(reports.summary(call.principal, call.query)), "summary.csv")


@endpoint(bp, "GET", "/v1/reports/conversations.csv",
          summary="One row per conversation created in the range; its columns add up to the summary",
          tag=TAG, auth=SUPERVISOR_UP, errors=(413,))
def conversations_csv(call: Call[None, s.RangeQuery]) -> Response:
    return _csv(conversation_rows.conversations_csv(call.principal, call.query), "conversations.csv")


def _csv(body: str, filename: str) -> Response:
    return Response(body=body, headers={"Content-Type": "text/csv; charset=utf-8",
                                        "Content-Disposition": f'attachment; filename="{filename}"'})
