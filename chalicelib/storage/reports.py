"""Per-tenant report counters, bucketed by day."""
from __future__ import annotations

from pynamodb.attributes import UnicodeAttribute

from .base import TableModel, table_meta


class ReportCounterModel(TableModel):
    """Counters of one tenant and UTC hour ("2026-11-23T10"), or of one agent in it ("...T10#a#a_x").

    Only the keys are declared: the counters ("conversations", "frt_12", "csat_5"...) are named by the
    events that ADD to them, through the low-level client (chalicelib/reports/counters.py)."""
    Meta = table_meta("report-counters")
    tenant_id = UnicodeAttribute(hash_key=True)
    bucket = UnicodeAttribute(range_key=True)
