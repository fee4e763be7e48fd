"""Sharing platform rules: the resource catalogue (who provides what, under which class)."""

from __future__ import annotations

from sqlalchemy.orm import Session

from exchange.core.resource_schema import OpenClass, ShareClass
from exchange.directory.models import Resource
from exchange.directory.publishing import missing_catalog_fields
from exchange.platforms.sharing.access.principal import Principal
from exchange.platforms.sharing.catalog import repository as repo
from exchange.platforms.sharing.catalog.schemas import (
    CatalogEntry,
    CatalogPage,
    DataItem,
    QualityCheck,
)
from exchange.platforms.sharing.errors import NotProvider, ResourceNotFound
from exchange.quality import results_repository as results
from exchange.quality import score


def to_entry(r: Resource, pass_rate: float | None = None) -> CatalogEntry:
    """The entry as the catalogue API shows it; `pass_rate` is its latest standards result."""
    missing = missing_catalog_fields(r)
    quality = score.assess(r, pass_rate)
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
        quality_score=quality.score,
        quality_checks=[
            QualityCheck(name=c.name, passed=c.passed, value=c.value, detail=c.detail)
            for c in quality.checks
        ],
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
    rates = results.pass_rates(session, [r.code for r in rows])
    return CatalogPage(total=total, items=[to_entry(r, rates.get(r.code)) for r in rows])


def entry(session: Session, code: str) -> CatalogEntry:
    found = repo.get_entry(session, code)
    if found is None:
        raise ResourceNotFound(code)
    return to_entry(found, results.pass_rates(session, [code]).get(code))


def ensure_provider(session: Session, who: Principal, code: str) -> None:
    """`who` is of the department that provides `code` (only it sees who read the data)."""
    resource = repo.get_entry(session, code)
    if resource is None:
        raise ResourceNotFound(code)
    if resource.provider_id != who.department_id:
        raise NotProvider(f"see who read {code!r}")
