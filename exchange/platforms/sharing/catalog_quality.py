"""A resource's quality score: the share of simple, checkable promises its entry keeps.

After uData's nine checks, adapted to a government catalogue: complete entry, a real abstract,
documented data items, a licence, data present, updates as often as the entry promises, and
the latest batch passing the quality gate.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from pydantic import BaseModel

from exchange.core.resource_schema import UpdateCycle
from exchange.directory.models import Resource
from exchange.directory.publishing import missing_catalog_fields

MIN_ABSTRACT_CHARS = 50


class QualityCheck(BaseModel):
    name: str
    passed: bool
    detail: str


@dataclass(frozen=True)
class GateHistory:
    """When the resource last had a batch accepted, and last had one quarantined."""

    last_accepted: dt.datetime | None
    last_quarantined: dt.datetime | None


def checks(r: Resource, gate: GateHistory, now: dt.datetime) -> list[QualityCheck]:
    missing = missing_catalog_fields(r)
    undocumented = [i["name"] for i in r.data_items if (i.get("title") or i["name"]) == i["name"]]
    max_age = UpdateCycle(r.update_cycle).max_age_days
    if r.last_updated_at is None:
        fresh, fresh_detail = False, "no data received yet"
    elif max_age is None:
        fresh, fresh_detail = True, f"irregular; last update {r.last_updated_at:%Y-%m-%d}"
    else:
        age = (now - r.last_updated_at).total_seconds() / 86400
        fresh = age <= max_age
        fresh_detail = f"last update {age:.1f} days ago; {r.update_cycle} allows {max_age}"
    gate_ok = gate.last_accepted is not None and (
        gate.last_quarantined is None or gate.last_quarantined < gate.last_accepted
    )
    return [
        QualityCheck(
            name="complete",
            passed=not missing,
            detail="all required fields" if not missing else "lacks " + ", ".join(missing),
        ),
        QualityCheck(
            name="described",
            passed=len(r.abstract or "") >= MIN_ABSTRACT_CHARS,
            detail=f"abstract of {len(r.abstract or '')} characters (>= {MIN_ABSTRACT_CHARS})",
        ),
        QualityCheck(
            name="documented",
            passed=bool(r.data_items) and not undocumented,
            detail="every data item titled"
            if not undocumented
            else "untitled: " + ", ".join(undocumented),
        ),
        QualityCheck(name="licensed", passed=bool(r.licence), detail=r.licence or "no licence"),
        QualityCheck(name="has_data", passed=r.row_count > 0, detail=f"{r.row_count} rows"),
        QualityCheck(name="up_to_date", passed=fresh, detail=fresh_detail),
        QualityCheck(
            name="passes_gate",
            passed=gate_ok,
            detail="latest batch accepted" if gate_ok else "no accepted batch since a quarantine",
        ),
    ]


def score(results: list[QualityCheck]) -> float:
    return round(sum(c.passed for c in results) / len(results), 2)
