"""Catalogue queries of the portal: listed entries, search with facets, the index tables.

Every query that returns catalogue entries goes through `_listed()`: closed (禁止开放) and
unpublished entries cannot be reached from here, not even as a count.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Select,
    func,
    literal,
    select,
    update,
)
from sqlalchemy.orm import Session, joinedload

from exchange.directory.models import Department, Resource
from exchange.platforms.open_data.access import LISTED_CLASSES, PUBLISHED
from exchange.platforms.open_data.models import FacetValue, PortalDataset, SearchTerm

SORTS = (
    "relevance",
    "updated",
    "updated_asc",
    "created",
    "created_asc",
    "title",
    "title_desc",
    "name",
    "name_desc",
    "quality",
)


def _listed() -> ColumnElement[bool]:
    return Resource.open_class.in_(LISTED_CLASSES) & (Resource.status == PUBLISHED)


def known_terms(session: Session, words: Sequence[str]) -> set[str]:
    if not words:
        return set()
    stmt = select(SearchTerm.term).where(SearchTerm.term.in_(words)).distinct()
    return set(session.scalars(stmt))


# -- search ------------------------------------------------------------------------------
@dataclass(frozen=True)
class Query:
    terms: tuple[str, ...] = ()
    filters: tuple[tuple[str, tuple[str, ...]], ...] = ()  # (facet, values): OR in, AND across
    impossible: bool = False  # a query word no dataset has: nothing can match
    among: tuple[str, ...] | None = None  # only these codes (a CKAN fq expression's result)


def _hits(q: Query) -> Select[Any]:
    if q.terms:
        matched = (
            select(SearchTerm.resource_code.label("code"), func.sum(SearchTerm.weight).label("s"))
            .where(SearchTerm.term.in_(q.terms))
            .group_by(SearchTerm.resource_code)
            .having(func.count() == len(q.terms))
            .subquery()
        )
        stmt = select(Resource.code, matched.c.s.label("score")).join(
            matched, matched.c.code == Resource.code
        )
    else:
        stmt = select(Resource.code, literal(0).label("score"))
    stmt = stmt.where(_listed())
    if q.impossible:
        stmt = stmt.where(literal(False))
    if q.among is not None:
        stmt = stmt.where(Resource.code.in_(q.among))
    columns = {
        "open_class": Resource.open_class,
        "update_cycle": Resource.update_cycle,
        "topic": Resource.topic,
    }
    for facet, values in q.filters:
        if facet in columns:  # a column of the entry: no need to go through the facet rows
            stmt = stmt.where(columns[facet].in_(values))
        elif facet == "provider":
            stmt = stmt.where(
                Resource.provider_id.in_(select(Department.id).where(Department.code.in_(values)))
            )
        else:
            stmt = stmt.where(
                Resource.code.in_(
                    select(FacetValue.resource_code).where(
                        FacetValue.facet == facet, FacetValue.value.in_(values)
                    )
                )
            )
    return stmt


def search(
    session: Session, q: Query, *, sort: str, limit: int, offset: int
) -> tuple[int, list[tuple[Resource, int]]]:
    hits = _hits(q).cte("hits")
    # metadata_modified as CKAN shows it: the last batch, else the publication
    modified = func.coalesce(Resource.last_updated_at, Resource.published_at)
    orders: dict[str, list[Any]] = {
        "relevance": [hits.c.score.desc(), modified.desc().nulls_last()],
        "updated": [modified.desc().nulls_last()],
        "updated_asc": [modified.asc().nulls_last()],
        "created": [Resource.published_at.desc().nulls_last()],
        "created_asc": [Resource.published_at.asc().nulls_last()],
        "title": [Resource.title],
        "title_desc": [Resource.title.desc()],
        "name": [Resource.code],
        "name_desc": [Resource.code.desc()],
        "quality": [Resource.quality_score.desc().nulls_last()],
    }
    order = orders[sort]
    stmt = (
        select(Resource, hits.c.score, func.count().over().label("total"))
        .join(hits, hits.c.code == Resource.code)
        .options(joinedload(Resource.provider))
        .order_by(*order, Resource.code)
        .limit(limit)
        .offset(offset)
    )
    rows = session.execute(stmt).all()
    if rows:
        return int(rows[0].total), [(r, int(score or 0)) for r, score, _ in rows]
    # no row to read the window count from: past the end, or rows=0 (a count alone)
    total = session.scalar(select(func.count()).select_from(hits)) if offset or not limit else 0
    return int(total or 0), []


@dataclass(frozen=True)
class FacetCount:
    facet: str
    value: str
    label: str
    count: int


def facet_counts(session: Session, q: Query, *, per_facet: int = 50) -> list[FacetCount]:
    """Counts of every facet value over the datasets matching `q`, in one query."""
    hits = _hits(q).cte("hits")
    counted = (
        select(
            FacetValue.facet,
            FacetValue.value,
            func.min(FacetValue.label).label("label"),
            func.count().label("n"),
        )
        .join(hits, hits.c.code == FacetValue.resource_code)
        .group_by(FacetValue.facet, FacetValue.value)
        .subquery()
    )
    ranked = select(
        counted,
        func.row_number()
        .over(partition_by=counted.c.facet, order_by=(counted.c.n.desc(), counted.c.value))
        .label("rank"),
    ).subquery()
    stmt = select(ranked.c.facet, ranked.c.value, ranked.c.label, ranked.c.n).order_by(
        ranked.c.facet, ranked.c.rank
    )
    if per_facet >= 0:
        stmt = stmt.where(ranked.c.rank <= per_facet)
    return [FacetCount(f, v, label, int(n)) for f, v, label, n in session.execute(stmt)]


# -- single entries and lists ------------------------------------------------------------
def get_listed(session: Session, code: str) -> Resource | None:
    return session.scalars(
        select(Resource)
        .options(joinedload(Resource.provider))
        .where(Resource.code == code, _listed())
    ).first()


def listed(session: Session, *, limit: int | None = None, offset: int = 0) -> Sequence[Resource]:
    stmt = (
        select(Resource)
        .options(joinedload(Resource.provider))
        .where(_listed())
        .order_by(Resource.code)
        .offset(offset)
    )
    if limit is not None:
        stmt = stmt.limit(limit)
    return session.scalars(stmt).all()


def listed_codes(session: Session, *, limit: int | None, offset: int) -> list[str]:
    stmt = select(Resource.code).where(_listed()).order_by(Resource.code).offset(offset)
    if limit is not None:
        stmt = stmt.limit(limit)
    return list(session.scalars(stmt))


def count_listed(session: Session) -> tuple[int, int]:
    """(datasets, providers) on the portal."""
    row = session.execute(
        select(func.count(), func.count(Resource.provider_id.distinct())).where(_listed())
    ).one()
    return int(row[0]), int(row[1])


def formats_of(session: Session, codes: Sequence[str]) -> dict[str, list[str]]:
    if not codes:
        return {}
    rows = session.execute(
        select(PortalDataset.resource_code, PortalDataset.formats).where(
            PortalDataset.resource_code.in_(codes)
        )
    )
    return {code: list(formats) for code, formats in rows}


def set_quality_scores(session: Session, scores: dict[str, float]) -> None:
    if scores:
        session.execute(
            update(Resource), [{"code": c, "quality_score": s} for c, s in scores.items()]
        )


# -- organisations -----------------------------------------------------------------------
def providers(session: Session) -> list[tuple[Department, int]]:
    """Departments with at least one listed dataset, and how many."""
    stmt = (
        select(Department, func.count(Resource.code))
        .join(Resource, Resource.provider_id == Department.id)
        .where(_listed())
        .group_by(Department.id)
        .order_by(Department.code)
    )
    return [(d, int(n)) for d, n in session.execute(stmt)]


def provider_by_code(session: Session, code: str) -> tuple[Department, int] | None:
    for dept, n in providers(session):
        if dept.code.lower() == code.lower() or str(dept.id) == code:
            return dept, n
    return None
