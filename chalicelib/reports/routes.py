"""REST routes of the reports: supervisors and admins."""
from __future__ import annotations

from typing import TYPE_CHECKING

from chalice import Blueprint, Response

from ..access.roles import SUPERVISOR_UP
from ..lazy import lazy_modules
from ..web.routing import Call, endpoint
from .schemas import Summary, SummaryQuery

if TYPE_CHECKING:
    from . import summary as reports
else:  # loaded by the first request that needs them (see chalicelib/lazy.py)
    reports, = lazy_modules(__package__, "summary")

bp = Blueprint(__name__)
TAG = "reports"


@endpoint(bp, "GET", "/v1/reports/summary", summary="Conversations, response times, CSAT and SLA over a range",
          tag=TAG, auth=SUPERVISOR_UP, query=SummaryQuery, response=Summary)
def summary(call: Call[None, SummaryQuery]) -> Summary:
    return reports.summary(call.principal, call.query)


@endpoint(bp, "GET", "/v1/reports/summary.csv", summary="The same summary as CSV (section, name, value)",
          tag=TAG, auth=SUPERVISOR_UP, query=SummaryQuery)
def summary_csv(call: Call[None, SummaryQuery]) -> Response:
    return Response(body=reports.summary_csv(reports.summary(call.principal, call.query)),
                    headers={"Content-Type": "text/csv; charset=utf-8",
                             "Content-Disposition": 'attachment; filename="summary.csv"'})
