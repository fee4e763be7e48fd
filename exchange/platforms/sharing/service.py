"""Sharing platform rules: the resource catalogue (who provides what, under which class)."""

from __future__ import annotations

from sqlalchemy.orm import Session

from exchange.core.db import utcnow
from exchange.core.resource_schema import OpenClass, ShareClass
from exchange.directory.models import Resource
from exchange.directory.publishing import missing_catalog_fields
from exchange.platforms.sharing import catalog_quality as quality
from exchange.platforms.sharing import repository as repo
from exchange.platforms.sharing.catalog_quality import GateHistory
from exchange.platforms.sharing.errors import ResourceNotFound
from exchange.platforms.sharing.schemas import CatalogEntry, CatalogPage, DataItem


def to_entry(r: Resource, gate: GateHistory | None = None) -> CatalogEntry:
    missing = missing_catalog_fields(r)
    results = quality.checks(r, gate or GateHistory(None, None), utcnow())
    return CatalogEntry(
        code=r.code,
        identifier=r.identifier,
        title=r.title,
        abstract=r.abstract,
        classification=r.classification,
        provider_code=r.provider.code,
        provider_name=r.provider.name,
        share_class=r.share_class,
        share_class_label=ShareClass(r.share_class).label,
        share_conditions=r.share_conditions,
        open_class=r.open_class,
        open_class_label=OpenClass(r.open_class).label,
        update_cycle=r.update_cycle,
        data_items=[DataItem(**item) for item in r.data_items],
        tags=list(r.tags),
        published_at=r.published_at,
        last_updated_at=r.last_updated_at,
        row_count=r.row_count,
        status=r.status,
        publishable=not missing,
        missing_fields=missing,
        quality_score=quality.score(results),
        quality_checks=results,
    )


def search(
    session: Session,
    *,
    q: str | None = None,
    provider: str | None = None,
    share_class: ShareClass | None = None,
    limit: int = 50,
    offset: int = 0,
) -> CatalogPage:
    total, rows = repo.search_catalog(
        session,
        q=q,
        provider=provider,
        share_class=share_class.value if share_class else None,
        limit=limit,
        offset=offset,
    )
    gates = repo.gate_history(session, [r.code for r in rows])
    return CatalogPage(total=total, items=[to_entry(r, gates.get(r.code)) for r in rows])


def entry(session: Session, code: str) -> CatalogEntry:
    found = repo.get_entry(session, code)
    if found is None:
        raise ResourceNotFound(code)
    return to_entry(found, repo.gate_history(session, [code]).get(code))
