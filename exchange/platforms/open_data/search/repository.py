"""Writing the search index tables (reads are in `repository`)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Table, delete, insert, select, text
from sqlalchemy.orm import Session

from exchange.core.db import psycopg_connection
from exchange.directory.models import Department, Resource
from exchange.platforms.open_data.models import FacetValue, PortalDataset, SearchTerm

# Past this many changed entries the planner's statistics are refreshed at once, rather than
# leaving the first searches after a bulk load to plans made for empty tables.
ANALYZE_AFTER = 1000


@dataclass(frozen=True)
class IndexEntry:
    code: str
    digest: str
    formats: list[str]
    is_geo: bool
    terms: dict[str, int]
    facets: list[tuple[str, str, str]]  # (facet, value, label)


def index_digests(session: Session) -> dict[str, str]:
    rows = session.execute(select(PortalDataset.resource_code, PortalDataset.source_sha256))
    return {code: digest for code, digest in rows}


def entries_with_providers(session: Session) -> Sequence[tuple[Resource, str, str, str]]:
    """(entry, provider code, provider name, provider's node division code)."""
    stmt = (
        select(Resource, Department.code, Department.name, Department.node_code)
        .join(Department, Department.id == Resource.provider_id)
        .order_by(Resource.code)
    )
    return [(r, code, name, node) for r, code, name, node in session.execute(stmt)]


def _bulk(session: Session, table: Table, rows: list[dict[str, Any]]) -> None:
    """COPY on PostgreSQL (a million index rows in seconds), executemany elsewhere."""
    if not rows:
        return
    if session.get_bind().dialect.name != "postgresql":
        session.execute(insert(table), rows)
        return
    names = list(rows[0])
    raw = psycopg_connection(session)
    cols = ", ".join(f'"{n}"' for n in names)
    sql = f'COPY "{table.name}" ({cols}) FROM STDIN'
    with raw.cursor() as cur, cur.copy(sql) as copy:
        for row in rows:
            copy.write_row([row[n] for n in names])


def replace_index_entries(
    session: Session, entries: Sequence[IndexEntry], chunk: int = 2000
) -> None:
    """Replace the index rows of these entries with a few set-based statements per chunk."""
    now = dt.datetime.now(dt.UTC)
    for i in range(0, len(entries), chunk):
        part = entries[i : i + chunk]
        codes = [e.code for e in part]
        for model in (SearchTerm, FacetValue, PortalDataset):
            session.execute(delete(model).where(model.resource_code.in_(codes)))
        session.execute(
            insert(PortalDataset),
            [
                {
                    "resource_code": e.code,
                    "source_sha256": e.digest,
                    "formats": e.formats,
                    "is_geo": e.is_geo,
                    "indexed_at": now,
                }
                for e in part
            ],
        )
        terms = [
            {"term": t, "resource_code": e.code, "weight": w}
            for e in part
            for t, w in e.terms.items()
        ]
        _bulk(session, SearchTerm.__table__, terms)  # type: ignore[arg-type]
        facets = [
            {"facet": f, "value": v, "resource_code": e.code, "label": label}
            for e in part
            for (f, v), label in {(f, v): label for f, v, label in e.facets}.items()
        ]
        _bulk(session, FacetValue.__table__, facets)  # type: ignore[arg-type]
    session.flush()
    if len(entries) > ANALYZE_AFTER and session.get_bind().dialect.name == "postgresql":
        for name in (
            "resource",
            *(m.__tablename__ for m in (SearchTerm, FacetValue, PortalDataset)),
        ):
            session.execute(text(f'ANALYZE "{name}"'))
