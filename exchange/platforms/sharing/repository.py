from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

from sqlalchemy import case, func, or_, select
from sqlalchemy.orm import Session, joinedload

from exchange.directory.models import Department, Resource
from exchange.platforms.exchange.models import Batch
from exchange.platforms.sharing.catalog_quality import GateHistory


def search_catalog(
    session: Session,
    *,
    q: str | None,
    provider: str | None,
    share_class: str | None,
    limit: int,
    offset: int,
) -> tuple[int, Sequence[Resource]]:
    stmt = select(Resource).join(Resource.provider)
    order: list[Any] = [Resource.code]
    if q:
        # Substring match works for Chinese without a segmenter ("人口" finds "人口基础信息").
        like = f"%{q}%"
        stmt = stmt.where(
            or_(Resource.title.ilike(like), Resource.abstract.ilike(like), Resource.code == q)
        )
        order.insert(0, case((Resource.title.ilike(like), 0), else_=1))  # title hits first
    if provider:
        stmt = stmt.where(Department.code == provider)
    if share_class:
        stmt = stmt.where(Resource.share_class == share_class)
    total = session.scalar(select(func.count()).select_from(stmt.subquery())) or 0
    rows = session.scalars(
        stmt.options(joinedload(Resource.provider)).order_by(*order).limit(limit).offset(offset)
    ).all()
    return total, rows


def get_entry(session: Session, code: str) -> Resource | None:
    return session.scalars(
        select(Resource).options(joinedload(Resource.provider)).where(Resource.code == code)
    ).first()


def gate_history(session: Session, codes: Sequence[str]) -> dict[str, GateHistory]:
    """Per resource: when a batch was last accepted and last quarantined (one query)."""
    if not codes:
        return {}
    accepted = func.max(case((Batch.status == "accepted", Batch.received_at)))
    quarantined = func.max(case((Batch.status == "quarantined", Batch.received_at)))
    rows = session.execute(
        select(Batch.resource_code, accepted, quarantined)
        .where(Batch.resource_code.in_(list(codes)))
        .group_by(Batch.resource_code)
    ).all()
    return {code: GateHistory(_utc(a), _utc(q)) for code, a, q in rows}


def _utc(value: dt.datetime | None) -> dt.datetime | None:
    # An aggregate loses the column's type on SQLite: it comes back as naive text.
    if isinstance(value, str):
        value = dt.datetime.fromisoformat(value)
    if value is not None and value.tzinfo is None:
        value = value.replace(tzinfo=dt.UTC)
    return value
