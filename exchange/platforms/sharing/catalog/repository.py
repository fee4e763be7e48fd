from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import case, func, or_, select
from sqlalchemy.orm import Session, joinedload

from exchange.directory.models import Department, Resource


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
