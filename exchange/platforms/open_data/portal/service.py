"""Open-data platform rules: what the public may find, see and read, and how it is ranked."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

from sqlalchemy.orm import Session

from exchange.core.db import utcnow
from exchange.core.resource_schema import FieldSpec, ResourceSchema
from exchange.directory.models import Resource
from exchange.platforms.open_data import access
from exchange.platforms.open_data.datastore import repository as ds
from exchange.platforms.open_data.errors import BadParameter, DataNotOpen, DatasetNotFound, NoData
from exchange.platforms.open_data.portal import repository as repo
from exchange.platforms.open_data.portal.repository import SORTS, FacetCount, Query
from exchange.platforms.open_data.search import service as search_index
from exchange.quality import results_repository as results
from exchange.quality import score as quality

FACETS = ("provider", "topic", "format", "update_cycle", "open_class", "tag")
MAX_QUERY_CHARS = 200
# Words so general that, next to a more telling word, they would only exclude datasets.
GENERIC_QUERY_WORDS = frozenset({"数据", "数据集", "信息", "资料", "查询", "data", "dataset"})

Schemas = Mapping[str, ResourceSchema]


@dataclass(frozen=True)
class Card:
    """A dataset as listings show it."""

    resource: Resource
    formats: list[str]
    overdue: bool
    quality: quality.Quality
    score: int = 0

    @property
    def open(self) -> bool:
        return access.data_is_open(self.resource.open_class)


@dataclass(frozen=True)
class SearchResult:
    total: int
    cards: list[Card]
    facets: dict[str, list[FacetCount]]
    terms: tuple[str, ...]


def public_datasets(session: Session) -> Sequence[Resource]:
    return repo.listed(session)


def package_names(session: Session, *, limit: int | None = None, offset: int = 0) -> list[str]:
    return repo.listed_codes(session, limit=limit, offset=offset)


def build_query(session: Session, q: str | None, filters: Mapping[str, Sequence[str]]) -> Query:
    for facet, values in filters.items():
        if facet not in FACETS:
            raise BadParameter(facet, f"unknown facet; use one of {', '.join(FACETS)}")
        for v in values:
            if not v or len(v) > 200:
                raise BadParameter(facet, "a facet value must be 1 to 200 characters")
    terms: list[str] = []
    impossible = False
    if q:
        if len(q) > MAX_QUERY_CHARS:
            raise BadParameter("q", f"at most {MAX_QUERY_CHARS} characters")
        words = search_index.query_words(q)
        telling = [w for w in words if w not in GENERIC_QUERY_WORDS]
        words = telling or words
        known = repo.known_terms(session, words)
        for word in words:
            if word in known:
                terms.append(word)
                continue
            parts = search_index.sub_words(word)
            synonyms = search_index.SYNONYMS.get(word, ())
            known_synonyms = repo.known_terms(session, list(synonyms)) if synonyms else set()
            if parts and set(parts) <= repo.known_terms(session, parts):
                terms += parts
            elif known_synonyms:
                terms.append(next(w for w in synonyms if w in known_synonyms))
            else:
                impossible = True
    norm = tuple(
        (f, tuple(dict.fromkeys(v.lower() if f == "format" else v for v in values)))
        for f, values in sorted(filters.items())
        if values
    )
    return Query(tuple(dict.fromkeys(terms)), norm, impossible)


def cards(session: Session, schemas: Schemas, rows: Sequence[tuple[Resource, int]]) -> list[Card]:
    codes = [r.code for r, _ in rows]
    rates = results.pass_rates(session, codes)
    formats = repo.formats_of(session, codes)
    now = utcnow()
    return [
        Card(
            resource=r,
            formats=formats.get(r.code, []),
            overdue=quality.is_overdue(r, now),
            quality=quality.assess(r, rates.get(r.code)),
            score=score,
        )
        for r, score in rows
    ]


def search(
    session: Session,
    schemas: Schemas,
    *,
    q: str | None = None,
    filters: Mapping[str, Sequence[str]] | None = None,
    sort: str | None = None,
    limit: int = 20,
    offset: int = 0,
    facet_limit: int = 50,
    with_facets: bool = True,
    among: Sequence[str] | None = None,
) -> SearchResult:
    """`among`: only these dataset codes (what a CKAN `fq` expression selected)."""
    query = build_query(session, q, filters or {})
    if among is not None:
        query = replace(query, among=tuple(among))
    sort = sort or ("relevance" if query.terms else "updated")
    if sort not in SORTS:
        raise BadParameter("sort", f"use one of {', '.join(SORTS)}")
    total, rows = repo.search(session, query, sort=sort, limit=limit, offset=offset)
    facets: dict[str, list[FacetCount]] = {}
    if with_facets:
        for fc in repo.facet_counts(session, query, per_facet=facet_limit):
            facets.setdefault(fc.facet, []).append(fc)
    return SearchResult(total, cards(session, schemas, rows), facets, query.terms)


@dataclass(frozen=True)
class Home:
    featured: list[Card]
    recent: list[Card]
    datasets: int
    providers: int
    topics: list[FacetCount]


def home(session: Session, schemas: Schemas) -> Home:
    opened = {"open_class": ["open"]}
    featured = search(session, schemas, filters=opened, sort="quality", limit=4, with_facets=False)
    recent = search(session, schemas, sort="updated", limit=6, with_facets=False)
    datasets, providers = repo.count_listed(session)
    topics = [f for f in repo.facet_counts(session, Query()) if f.facet == "topic"]
    return Home(featured.cards, recent.cards, datasets, providers, topics)


@dataclass(frozen=True)
class Dataset:
    card: Card
    schema: ResourceSchema | None
    served: list[FieldSpec]
    withheld: list[FieldSpec]
    rows_estimate: int
    application_url: str | None

    @property
    def resource(self) -> Resource:
        return self.card.resource


def listed_entry(session: Session, code: str) -> Resource:
    found = repo.get_listed(session, code)
    if found is None:
        raise DatasetNotFound(code)
    return found


def card_of(session: Session, schemas: Schemas, code: str) -> Card:
    (card,) = cards(session, schemas, [(listed_entry(session, code), 0)])
    return card


def dataset(session: Session, schemas: Schemas, code: str) -> Dataset:
    card = card_of(session, schemas, code)
    resource = card.resource
    schema = schemas.get(code)
    served = access.served_fields(schema) if schema else []
    estimate = resource.row_count
    if schema is not None and not estimate:
        estimate = ds.planner_rows(session, schema) or 0
    restricted = not access.data_is_open(resource.open_class)
    return Dataset(
        card=card,
        schema=schema,
        served=served,
        withheld=access.withheld_fields(schema) if schema else [],
        rows_estimate=estimate,
        application_url=access.RESTRICTED_ACCESS.application_url(code) if restricted else None,
    )


def readable_schema(
    session: Session, schemas: Schemas, code: str, api_key_id: str | None = None
) -> tuple[Resource, ResourceSchema]:
    """The entry and schema of a dataset whose rows this visitor may read, or why not."""
    resource = listed_entry(session, code)
    if not access.data_is_open(resource.open_class):
        gate = access.RESTRICTED_ACCESS
        if not gate.may_read(code, api_key_id):
            raise DataNotOpen(code, gate.application_url(code))
    schema = schemas.get(code)
    if schema is None or not access.served_fields(schema):
        raise NoData(code)
    return resource, schema


def decode_key(schema: ResourceSchema, raw: Sequence[Any], name: str) -> tuple[Any, ...]:
    if len(raw) != len(schema.primary_key):
        raise BadParameter(name, "not a cursor of this dataset")
    try:
        return tuple(
            ds.parse_value(schema.field(k), v) for k, v in zip(schema.primary_key, raw, strict=True)
        )
    except ds.BadValue as exc:
        raise BadParameter(name, f"not a cursor of this dataset ({exc})") from None


def preview(
    session: Session,
    schema: ResourceSchema,
    *,
    size: int,
    after: Sequence[Any] | None = None,
    before: Sequence[Any] | None = None,
) -> ds.Page:
    if after is not None and before is not None:
        raise BadParameter("after", "give `after` or `before`, not both")
    return ds.keyset_page(
        session,
        schema,
        size=size,
        after=decode_key(schema, after, "after") if after is not None else None,
        before=decode_key(schema, before, "before") if before is not None else None,
    )


def refresh_catalog(session: Session, schemas: Schemas) -> int:
    """Re-index changed entries and recompute every listed dataset's quality score."""
    changed = search_index.refresh(session, schemas)
    resources = repo.listed(session)
    rates = results.pass_rates(session, [r.code for r in resources])
    repo.set_quality_scores(
        session, {r.code: quality.assess(r, rates.get(r.code)).score for r in resources}
    )
    return changed
