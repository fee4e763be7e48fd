from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any

from sqlalchemy import func, select, tuple_, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from exchange.catalogue.models import (
    CatalogueCounter,
    CatalogueEvent,
    CatalogueGeneration,
    CatalogueResource,
    CatalogueVersion,
    Status,
)


def get(session: Session, code: str, *, for_update: bool = False) -> CatalogueResource | None:
    stmt = select(CatalogueResource).where(
        (CatalogueResource.code == code) | (CatalogueResource.identifier == code)
    )
    if for_update:
        stmt = stmt.with_for_update()
    return session.scalars(stmt).first()


def code_taken(session: Session, code: str) -> bool:
    return (
        session.scalar(select(CatalogueResource.id).where(CatalogueResource.code == code))
        is not None
    )


def identifier_taken(session: Session, identifier: str) -> bool:
    found = select(CatalogueResource.id).where(CatalogueResource.identifier == identifier)
    return session.scalar(found) is not None


def listing(
    session: Session, *, status: str | None, provider_id: uuid.UUID | None, limit: int, offset: int
) -> tuple[int, Sequence[CatalogueResource]]:
    stmt = select(CatalogueResource)
    if status:
        stmt = stmt.where(CatalogueResource.status == status)
    if provider_id:
        stmt = stmt.where(CatalogueResource.provider_id == provider_id)
    total = session.scalar(select(func.count()).select_from(stmt.subquery())) or 0
    rows = session.scalars(stmt.order_by(CatalogueResource.code).limit(limit).offset(offset)).all()
    return total, rows


def add(session: Session, resource: CatalogueResource) -> CatalogueResource | None:
    """The new resource, or None when its code was taken meanwhile (a concurrent draft)."""
    try:
        with session.begin_nested():
            session.add(resource)
            session.flush()
    except IntegrityError:
        return None
    return resource


def delete(session: Session, resource: CatalogueResource) -> None:
    session.query(CatalogueEvent).filter(CatalogueEvent.resource_id == resource.id).delete()
    session.delete(resource)
    session.flush()


def record(session: Session, event: CatalogueEvent) -> None:
    session.add(event)
    session.flush()


def events(session: Session, resource_id: uuid.UUID) -> Sequence[CatalogueEvent]:
    return session.scalars(
        select(CatalogueEvent)
        .where(CatalogueEvent.resource_id == resource_id)
        .order_by(CatalogueEvent.id)
    ).all()


def versions(session: Session, resource_id: uuid.UUID) -> Sequence[CatalogueVersion]:
    return session.scalars(
        select(CatalogueVersion)
        .where(CatalogueVersion.resource_id == resource_id)
        .order_by(CatalogueVersion.number)
    ).all()


def version(session: Session, resource_id: uuid.UUID, number: int) -> CatalogueVersion | None:
    return session.scalars(
        select(CatalogueVersion).where(
            CatalogueVersion.resource_id == resource_id, CatalogueVersion.number == number
        )
    ).first()


def add_version(session: Session, v: CatalogueVersion) -> CatalogueVersion:
    session.add(v)
    session.flush()
    return v


def next_sequence(session: Session, provider_code: str, at_least: int = 0) -> int:
    """The provider's next number; the row is locked until the transaction ends, so two
    drafts made at once never get the same one, and a deleted draft's number stays used."""
    # the row first (two first drafts of a provider at once: one inserts, both then lock it)
    insert = pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
    session.execute(
        insert(CatalogueCounter)
        .values(provider_code=provider_code, last=0)
        .on_conflict_do_nothing(index_elements=["provider_code"])
    )
    counter = session.scalars(
        select(CatalogueCounter)
        .where(CatalogueCounter.provider_code == provider_code)
        .with_for_update()
    ).one()
    counter.last = max(counter.last, at_least) + 1
    session.flush()
    return counter.last


def reserve_sequence(session: Session, provider_code: str, number: int) -> None:
    """A number issued elsewhere (a built-in file's identifier) is never issued again."""
    counter = session.get(CatalogueCounter, provider_code)
    if counter is None:
        session.add(CatalogueCounter(provider_code=provider_code, last=number))
    elif counter.last < number:
        counter.last = number
    session.flush()


def bump_generation(session: Session) -> None:
    done = session.execute(
        update(CatalogueGeneration)
        .where(CatalogueGeneration.id == 1)
        .values(generation=CatalogueGeneration.generation + 1)
    )
    if not getattr(done, "rowcount", 0):
        session.add(CatalogueGeneration(id=1, generation=1))
    session.flush()


def generation(session: Session) -> int:
    return (
        session.scalar(select(CatalogueGeneration.generation).where(CatalogueGeneration.id == 1))
        or 0
    )


def live_versions(session: Session) -> dict[str, int]:
    """Code -> version in force of every catalogued (not built-in) resource that went live."""
    rows = session.execute(
        select(CatalogueResource.code, CatalogueResource.current_version).where(
            CatalogueResource.builtin.is_(False),
            CatalogueResource.status.in_((Status.published, Status.withdrawn)),
            CatalogueResource.current_version.is_not(None),
        )
    ).all()
    return {code: int(n or 0) for code, n in rows}


def descriptors(session: Session, wanted: dict[str, int]) -> dict[str, dict[str, Any]]:
    if not wanted:
        return {}
    found: dict[str, dict[str, Any]] = {}
    pairs = list(wanted.items())
    for start in range(0, len(pairs), 500):  # bounded IN lists
        chunk = pairs[start : start + 500]
        rows = session.execute(
            select(CatalogueResource.code, CatalogueVersion.descriptor)
            .join(CatalogueVersion, CatalogueVersion.resource_id == CatalogueResource.id)
            .where(tuple_(CatalogueResource.code, CatalogueVersion.number).in_(chunk))
        ).all()
        found.update({code: d for code, d in rows})
    return found


def all_descriptors_in_force(session: Session) -> Sequence[tuple[str, str, dict[str, Any]]]:
    """(code, provider department code, descriptor) of every published resource: the
    一数一源 check compares a new data item with these."""
    from exchange.directory.models import Department

    rows = session.execute(
        select(Department.code, CatalogueResource.code, CatalogueVersion.descriptor)
        .join(CatalogueVersion, CatalogueVersion.resource_id == CatalogueResource.id)
        .join(Department, Department.id == CatalogueResource.provider_id)
        .where(
            CatalogueResource.status == Status.published,
            CatalogueVersion.number == CatalogueResource.current_version,
        )
    ).all()
    return [(code, dept, d) for dept, code, d in rows]


def withdrawn_codes(session: Session) -> frozenset[str]:
    return frozenset(
        session.scalars(
            select(CatalogueResource.code).where(CatalogueResource.status == Status.withdrawn)
        )
    )
