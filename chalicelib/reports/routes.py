"""REST routes of the reports: supervisors and admins."""
from __future__ import annotations

from typing import TYPE_CHECKING

from chalice import Blueprint, Response

from ..access.roles import SUPERVISOR_UP
from ..lazy import lazy_modules
from ..web.routing import Call, endpoint

if TYPE_CHECKING:
    from . import schemas as s
    from . import summary as reports
else:  # loaded by the first request that needs them (see chalicelib/lazy.py); the schemas too:
    # the handlers' annotations name the models, read on a route's first call (chalicelib/web/routing.py)
    s, reports = lazy_modules(__package__, "schemas", "summary")

bp = Blueprint(__name__)
TAG = "reports"


@endpoint(bp, "GET", "/v1/reports/summary", summary="Conversations, response times, CSAT and SLA over a range",
          tag=TAG, auth=SUPERVISOR_UP)
def summary(call: Call[None, s.SummaryQuery]) -> s.Summary:
    return reports.summary(call.principal, call.query)


@endpoint(bp, "GET", "/v1/reports/summary.csv", summary="The same summary as CSV (section, name, value)",
          tag=TAG, auth=SUPERVISOR_UP)
def summary_csv(call: Call[None, s.SummaryQuery]) -> Response:
    return Response(body=reports.summary_csv(reports.summary(call.principal, call.query)),
                    headers={"Content-Type": "text/csv; charset=utf-8",
                             "Content-Disposition": 'attachment; filename="summary.csv"'})
