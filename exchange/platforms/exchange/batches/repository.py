"""The SQL of the staff's batch views: a department's latest batches, batches with a delivery."""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session

from exchange.directory.models import Resource
from exchange.platforms.exchange.models import Batch, Delivery


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
