"""Macroeconomy registry (统计): indicators by division and period, read as time series."""

from __future__ import annotations

import re
from dataclasses import dataclass

from sqlalchemy.orm import Session

from basebases.base import BaseRegistry

_FREQUENCY = {"yearly": r"^\d{4}$", "quarterly": r"^\d{4}Q[1-4]$", "monthly": r"^\d{4}-\d{2}$"}


@dataclass(frozen=True)
class Point:
    period: str
    value: float
    unit: str


class Macroeconomy(BaseRegistry):
    kind = "macroeconomy"
    resources = ("macro_indicator",)

    def series(
        self, session: Session, indicator: str, division: str, frequency: str = "yearly"
    ) -> list[Point]:
        """One indicator for one division, oldest period first (YYYY, YYYYQn or YYYY-MM)."""
        if frequency not in _FREQUENCY:
            raise ValueError(f"frequency must be one of {sorted(_FREQUENCY)}")
        t = self.tables().current
        rows = self.rows(
            session, t.c.indicator == indicator, t.c.division == division, limit=100_000
        )
        pattern = re.compile(_FREQUENCY[frequency])
        points = [
            Point(r["period"], r["value"], r["unit"]) for r in rows if pattern.match(r["period"])
        ]
        return sorted(points, key=lambda p: p.period)
