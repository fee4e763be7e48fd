"""SQL for the stored standards results the quality score is fed by."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from exchange.pipelines.models import QualityRun
from exchange.platforms.exchange.models import Batch


def pass_rates(session: Session, codes: Sequence[str]) -> dict[str, float | None]:
    """Each resource's latest standards pass rate: from its latest standards run over the
    whole table (`quality_run`), else from the intake gate's report on its latest gated batch.
    None where the result covers no rows; absent where there is no result at all."""
    if not codes:
        return {}
    runs = _latest(
        session,
        select(
            QualityRun.resource_code.label("code"),
            QualityRun.rows.label("rows"),
            QualityRun.pass_rate.label("rate"),
            _rank(QualityRun.resource_code, QualityRun.checked_at),
        ).where(QualityRun.resource_code.in_(codes)),
    )
    rates = {code: (rate if rows else None) for code, rows, rate in runs}
    gated = [c for c in codes if c not in rates]
    if gated:
        gates = _latest(
            session,
            select(
                Batch.resource_code.label("code"),
                Batch.gate.label("gate"),
                _rank(Batch.resource_code, Batch.received_at),
            ).where(Batch.resource_code.in_(gated), Batch.gate.is_not(None)),
        )
        for code, gate in gates:
            rates[code] = float(gate["pass_rate"]) if gate.get("rows") else None
    return rates


def _rank(code: Any, at: Any) -> Any:
    return func.row_number().over(partition_by=code, order_by=at.desc()).label("n")


def _latest(session: Session, ranked: Any) -> list[tuple[Any, ...]]:
    sub = ranked.subquery()
    columns = [c for c in sub.c if c.name != "n"]
    return [tuple(row) for row in session.execute(select(*columns).where(sub.c.n == 1))]
