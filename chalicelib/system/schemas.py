"""What the system routes answer."""
from __future__ import annotations

from ..web.schemas import Output


class HealthOut(Output):
    status: str
