"""One table shape for every benchmark: figure, baseline from the same run, ratio, target."""

from __future__ import annotations

import math
from dataclasses import dataclass

from rich.console import Console
from rich.table import Table


@dataclass(frozen=True)
class Row:
    label: str
    value: float
    unit: str
    baseline: float | None = None
    baseline_label: str = ""
    target: str = ""
    ok: bool | None = None

    @property
    def ratio(self) -> float | None:
        if self.baseline in (None, 0) or math.isnan(self.value):
            return None
        return self.value / self.baseline


def _fmt(x: float | None) -> str:
    if x is None:
        return ""
    if abs(x) >= 1000:
        return f"{x:,.0f}"
    return f"{x:,.3g}" if abs(x) < 10 else f"{x:,.1f}"


def print_table(title: str, rows: list[Row]) -> None:
    table = Table(title=title, title_justify="left")
    for col in ("measure", "value", "unit", "baseline (same run)", "ratio", "target", "met"):
        table.add_column(col, justify="right" if col in ("value", "ratio") else "left")
    for r in rows:
        met = "" if r.ok is None else ("yes" if r.ok else "NO")
        baseline = f"{_fmt(r.baseline)} {r.baseline_label}".strip()
        ratio = _fmt(r.ratio)
        table.add_row(r.label, _fmt(r.value), r.unit, baseline, ratio, r.target, met)
    Console(width=160).print(table)
