"""A resource's quality score: the one number the portal, the sharing catalogue and the
catalogue's `quality_score` column show.

    score = 0.5 × standards pass rate + 0.5 × metadata completeness        (0..1)

* standards pass rate: the share of the resource's rows that pass every rule of its schema,
  as last stored (`results_repository.pass_rates`: the latest standards run, else the intake
  gate's report on the latest batch); 0 while there is none, or no rows to vouch for;
* metadata completeness: the share of these promises the catalogue entry keeps, each counting
  the same: every required catalogue field (`publishing.REQUIRED`), an abstract of at least
  50 characters, every data item titled, an open licence (not asked of 禁止开放 data), keywords,
  and a declared update cycle.

Freshness is not in the score: the portal shows "overdue" (`is_overdue`) and both show the
last update next to it, so a score only changes when the data or its entry does.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from exchange.core.resource_schema import OpenClass, UpdateCycle
from exchange.directory.models import Resource
from exchange.directory.publishing import missing_catalog_fields

STANDARDS_WEIGHT = 0.5
# Licences under which anyone may reuse the data (SPDX identifiers).
OPEN_LICENCES = frozenset(
    {"CC-BY-4.0", "CC-BY-SA-4.0", "CC0-1.0", "ODC-BY-1.0", "ODbL-1.0", "PDDL-1.0", "OGL-UK-3.0"}
)
# Chinese carries about twice the meaning per character of French or English, so uData's
# "more than 100 characters" becomes 50 here.
MIN_ABSTRACT_CHARS = 50


@dataclass(frozen=True)
class Check:
    name: str  # standards | complete | described | documented | licensed | keywords | cycle
    value: float  # 0..1; 0 or 1 except for the standards pass rate
    detail: str

    @property
    def passed(self) -> bool:
        return self.value >= 1.0


@dataclass(frozen=True)
class Quality:
    score: float  # 0..1, rounded to 4 places
    checks: tuple[Check, ...]  # the standards pass rate first, then the metadata checks

    @property
    def percent(self) -> int:
        return round(self.score * 100)

    @property
    def stars(self) -> int:
        return round(self.score * 5)


def assess(r: Resource, pass_rate: float | None) -> Quality:
    standards = Check(
        "standards",
        min(max(pass_rate or 0.0, 0.0), 1.0),
        "no stored standards result yet" if pass_rate is None else f"{pass_rate:.2%} of rows pass",
    )
    metadata = _metadata(r)
    completeness = sum(c.value for c in metadata) / len(metadata)
    score = STANDARDS_WEIGHT * standards.value + (1 - STANDARDS_WEIGHT) * completeness
    return Quality(round(score, 4), (standards, *metadata))


def _metadata(r: Resource) -> list[Check]:
    missing = missing_catalog_fields(r)
    abstract = len((r.abstract or "").strip())
    untitled = [i["name"] for i in r.data_items if (i.get("title") or i["name"]) == i["name"]]
    licensed = r.open_class == OpenClass.closed or r.licence in OPEN_LICENCES
    declared = UpdateCycle(r.update_cycle) is not UpdateCycle.irregular
    return [
        _check("complete", not missing, "lacks " + ", ".join(missing), "all required fields"),
        _check(
            "described",
            abstract >= MIN_ABSTRACT_CHARS,
            f"abstract of {abstract} characters (< {MIN_ABSTRACT_CHARS})",
            f"abstract of {abstract} characters",
        ),
        _check(
            "documented",
            bool(r.data_items) and not untitled,
            "untitled: " + (", ".join(untitled) or "no data items"),
            "every data item titled",
        ),
        _check("licensed", licensed, f"not an open licence: {r.licence}", r.licence or "closed"),
        _check("keywords", bool(r.tags), "no keywords", ", ".join(r.tags)),
        _check("cycle", declared, "irregular updates", f"updated {r.update_cycle}"),
    ]


def _check(name: str, ok: bool, failing: str, passing: str) -> Check:
    return Check(name, 1.0 if ok else 0.0, passing if ok else failing)


def is_overdue(r: Resource, now: dt.datetime) -> bool:
    """The declared update cycle was missed: the newest data (or, with none yet, the
    publication) is older than the cycle allows. Irregular resources are never overdue."""
    max_age = UpdateCycle(r.update_cycle).max_age_days
    if max_age is None:
        return False
    since = r.last_updated_at or r.published_at
    return (now - since).total_seconds() / 86400 > max_age
