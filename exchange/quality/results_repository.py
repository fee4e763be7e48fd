"""SQL for the stored standards results the quality score is fed by."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import DateTime, String, column, func, select, table
from sqlalchemy.orm import Session

from exchange.core.db import JSONDoc
from exchange.pipelines.models import QualityRun

# The intake gate's report is kept on the exchange platform's batch rows. Named here as a bare
# table so that quality, which every platform uses, imports none of them.
_batch = table(
    "batch",
    column("resource_code", String),
    column("gate", JSONDoc),
    column("received_at", DateTime),
).c


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
                _batch.resource_code.label("code"),
                _batch.gate.label("gate"),
                _rank(_batch.resource_code, _batch.received_at),
            ).where(_batch.resource_code.in_(gated), _batch.gate.is_not(None)),
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
