"""Feedback and API key storage."""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session

from exchange.directory.models import Department, Resource
from exchange.platforms.open_data.models import ApiKey, Feedback


def add_feedback(session: Session, item: Feedback) -> Feedback:
    session.add(item)
    session.flush()
    return item


def get_feedback(session: Session, feedback_id: uuid.UUID) -> tuple[Feedback, str] | None:
    """The feedback and the code of the department providing its dataset."""
    row = session.execute(
        select(Feedback, Department.code)
        .join(Resource, Resource.code == Feedback.resource_code)
        .join(Department, Department.id == Resource.provider_id)
        .where(Feedback.id == feedback_id)
    ).first()
    return (row[0], row[1]) if row else None


def feedback_for_dataset(session: Session, code: str, limit: int = 50) -> Sequence[Feedback]:
    return session.scalars(
        select(Feedback)
        .where(Feedback.resource_code == code)
        .order_by(Feedback.created_at.desc())
        .limit(limit)
    ).all()


def feedback_for_provider(
    session: Session, node_code: str, department_code: str, *, status: str | None, limit: int
) -> Sequence[tuple[Feedback, str]]:
    stmt = (
        select(Feedback, Resource.title)
        .join(Resource, Resource.code == Feedback.resource_code)
        .join(Department, Department.id == Resource.provider_id)
        .where(Department.node_code == node_code, Department.code == department_code)
        .order_by(Feedback.created_at.desc())
        .limit(limit)
    )
    if status:
        stmt = stmt.where(Feedback.status == status)
    return [(f, title) for f, title in session.execute(stmt)]


def add_api_key(session: Session, key: ApiKey) -> ApiKey:
    session.add(key)
    session.flush()
    return key


def api_key_by_hash(session: Session, key_sha256: str) -> ApiKey | None:
    return session.scalars(
        select(ApiKey).where(ApiKey.key_sha256 == key_sha256, ApiKey.revoked_at.is_(None))
    ).first()
