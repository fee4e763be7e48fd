"""Every SQL statement of disputes, and the one look at a record's current version."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.orm import Session, joinedload

from exchange.core.resource_schema import ResourceSchema
from exchange.datastore.tables import tables_for
from exchange.directory.models import Resource
from exchange.platforms.sharing.disputes.models import Dispute


def add(session: Session, d: Dispute) -> None:
    session.add(d)
    session.flush()


def get(session: Session, dispute_id: uuid.UUID) -> Dispute | None:
    return session.scalars(
        select(Dispute)
        .options(joinedload(Dispute.raiser), joinedload(Dispute.provider))
        .where(Dispute.id == dispute_id)
    ).first()


def listed(
    session: Session, *, department_id: uuid.UUID | None, status: str | None, limit: int
) -> Sequence[Dispute]:
    stmt = select(Dispute).options(joinedload(Dispute.raiser), joinedload(Dispute.provider))
    if department_id is not None:
        stmt = stmt.where(
            or_(Dispute.raiser_id == department_id, Dispute.provider_id == department_id)
        )
    if status is not None:
        stmt = stmt.where(Dispute.status == status)
    return session.scalars(stmt.order_by(Dispute.raised_at.desc()).limit(limit)).all()


def open_of(session: Session, resource: str, keys: Sequence[str] | None) -> Sequence[Dispute]:
    stmt = select(Dispute).where(Dispute.resource_code == resource, Dispute.status == "open")
    if keys is not None:
        stmt = stmt.where(Dispute.record_key.in_(keys))
    return session.scalars(stmt).all()


def every(session: Session) -> Sequence[Dispute]:
    return session.scalars(
        select(Dispute).options(joinedload(Dispute.raiser), joinedload(Dispute.provider))
    ).all()


def provider_of(session: Session, resource: str) -> uuid.UUID | None:
    return session.scalar(select(Resource.provider_id).where(Resource.code == resource))


def current_batches(
    session: Session, schema: ResourceSchema, keys: Sequence[Any]
) -> dict[str, str]:
    """The batch that wrote each key's current, undeleted version (absent: no such record)."""
    t = tables_for(schema)
    cur = t.current
    key = cur.c[t.key_columns[0]]
    rows = session.execute(
        select(key, cur.c._batch_id).where(key.in_(list(keys)), cur.c._deleted.is_(False))
    ).all()
    return {str(k): str(b) for k, b in rows}


def open_resources(session: Session) -> set[str]:
    stmt = select(Dispute.resource_code).where(Dispute.status == "open").distinct()
    return set(session.scalars(stmt).all())
