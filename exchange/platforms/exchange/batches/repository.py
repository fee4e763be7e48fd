"""Every SQL statement of the exchange platform's batches."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Sequence

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from exchange.directory.models import Resource
from exchange.platforms.exchange.models import Batch, Delivery


def get_batch(session: Session, batch_id: uuid.UUID) -> Batch | None:
    return session.get(Batch, batch_id)


def list_batches(
    session: Session, *, status: str | None, resource: str | None, limit: int
) -> Sequence[Batch]:
    stmt = select(Batch)
    if status is not None:
        stmt = stmt.where(Batch.status == status)
    if resource is not None:
        stmt = stmt.where(Batch.resource_code == resource)
    return session.scalars(stmt.order_by(Batch.received_at.desc()).limit(limit)).all()


def existing_batch_ids(session: Session, ids: Sequence[uuid.UUID]) -> set[uuid.UUID]:
    found: set[uuid.UUID] = set()
    for start in range(0, len(ids), 500):
        chunk = ids[start : start + 500]
        found.update(session.scalars(select(Batch.id).where(Batch.id.in_(chunk))))
    return found


def bump_resource(session: Session, code: str, at: dt.datetime, row_delta: int = 0) -> None:
    session.execute(
        update(Resource)
        .where(Resource.code == code)
        .values(last_updated_at=at, row_count=Resource.row_count + row_delta)
    )


# -- the staff console's batch views ----------------------------------------------------
def latest(
    session: Session, *, provider_id: uuid.UUID | None, status: str | None, limit: int
) -> Sequence[Batch]:
    stmt = select(Batch)
    if provider_id is not None:
        stmt = stmt.join(Resource, Resource.code == Batch.resource_code).where(
            Resource.provider_id == provider_id
        )
    if status is not None:
        stmt = stmt.where(Batch.status == status)
    return session.scalars(stmt.order_by(Batch.received_at.desc()).limit(limit)).all()


def provider_of(session: Session, resource_code: str) -> uuid.UUID | None:
    return session.scalar(select(Resource.provider_id).where(Resource.code == resource_code))


def delivered_to(session: Session, batch_id: uuid.UUID, department_id: uuid.UUID) -> bool:
    found = session.scalar(
        select(Delivery.id)
        .where(Delivery.batch_id == batch_id, Delivery.department_id == department_id)
        .limit(1)
    )
    return found is not None
