"""A dataset's quality score (uData-style checks) and whether its update cycle was missed.

Pure functions of the catalogue entry, its schema and its latest quality-gate report, so the
same score is shown on every page, in the CKAN API and in the catalogue (`quality_score`).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from exchange.core.resource_schema import ResourceSchema, UpdateCycle
from exchange.directory.models import Resource
from exchange.platforms.open_data import access

# Licences under which anyone may reuse the data (SPDX identifiers).
OPEN_LICENCES = frozenset(
    {"CC-BY-4.0", "CC-BY-SA-4.0", "CC0-1.0", "ODC-BY-1.0", "ODbL-1.0", "PDDL-1.0", "OGL-UK-3.0"}
)
# Chinese carries about twice the meaning per character of French or English, so uData's
# "more than 100 characters" becomes 50 here.
MIN_DESCRIPTION_CHARS = 50


@dataclass(frozen=True)
class Check:
    key: str  # also the i18n key of its label
    weight: float
    value: float  # 0..1


@dataclass(frozen=True)
class Quality:
    score: float  # 0..1
    checks: tuple[Check, ...]

    @property
    def percent(self) -> int:
        return round(self.score * 100)

    @property
    def stars(self) -> int:
        return round(self.score * 5)


def is_overdue(resource: Resource, now: dt.datetime) -> bool:
    """The declared update cycle was missed: the newest data (or, with none yet, the
    publication) is older than the cycle allows. Irregular resources are never overdue."""
    max_age = UpdateCycle(resource.update_cycle).max_age_days
    if max_age is None:
        return False
    since = resource.last_updated_at or resource.published_at
    return (now - since).total_seconds() / 86400 > max_age


def assess(
    resource: Resource,
    schema: ResourceSchema | None,
    gate: dict[str, Any] | None,
    now: dt.datetime,
) -> Quality:
    served = access.served_fields(schema) if schema else []
    cycle = UpdateCycle(resource.update_cycle)
    checks = [
        Check("check_licence", 1.0, float(resource.licence in OPEN_LICENCES)),
        Check(
            "check_description",
            1.0,
            float(len(resource.abstract.strip()) >= MIN_DESCRIPTION_CHARS),
        ),
        Check("check_formats", 1.0, float(bool(access.formats_of(schema, resource.open_class)))),
        Check("check_cycle_declared", 0.5, float(cycle is not UpdateCycle.irregular)),
        Check(
            "check_cycle_met",
            1.5,
            float(resource.last_updated_at is not None and not is_overdue(resource, now)),
        ),
        Check("check_gate", 1.5, float(gate.get("pass_rate", 0.0)) if gate else 0.0),
        Check(
            "check_documented",
            1.0,
            float(bool(served) and all(f.title and f.title != f.name for f in served)),
        ),
        Check("check_keywords", 0.5, float(bool(resource.tags))),
        Check("check_spatial", 0.5, float(_spatial(schema))),
    ]
    total = sum(c.weight for c in checks)
    score = sum(c.weight * min(max(c.value, 0.0), 1.0) for c in checks) / total
    return Quality(round(score, 4), tuple(checks))


def _spatial(schema: ResourceSchema | None) -> bool:
    if schema is None:
        return False
    served = access.served_fields(schema)
    return access.is_geo(schema) or any(f.code_list == "GB/T 2260" for f in served)
