"""SQL for applications, grants and the bulk subscriptions made through grants."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Sequence
from typing import Any

from sqlalchemy import and_, or_, select
from sqlalchemy.orm import Session, joinedload

from exchange.platforms.sharing.models import Application, BulkSubscription, Grant

OPEN = ("submitted", "in_review")


def add(session: Session, obj: object) -> None:
    session.add(obj)
    session.flush()


# -- applications ------------------------------------------------------------------------------
def get_application(session: Session, application_id: uuid.UUID) -> Application | None:
    return session.scalars(
        select(Application)
        .options(joinedload(Application.applicant), joinedload(Application.provider))
        .where(Application.id == application_id)
    ).first()


def open_application(
    session: Session, applicant_id: uuid.UUID, resource: str
) -> Application | None:
    return session.scalars(
        select(Application).where(
            Application.applicant_id == applicant_id,
            Application.resource_code == resource,
            Application.status.in_(OPEN),
        )
    ).first()


def list_applications(
    session: Session,
    *,
    department_id: uuid.UUID | None,
    side: str | None,
    status: str | None,
    overdue_at: dt.datetime | None,
    limit: int,
    offset: int,
) -> Sequence[tuple[Application, uuid.UUID | None]]:
    """Applications (with their grant's id) seen by a department, or all when it is None."""
    stmt = (
        select(Application, Grant.id)
        .outerjoin(Grant, Grant.application_id == Application.id)
        .options(joinedload(Application.applicant), joinedload(Application.provider))
    )
    if department_id is not None:
        mine = {
            "applicant": Application.applicant_id == department_id,
            "provider": Application.provider_id == department_id,
        }
        stmt = stmt.where(mine[side] if side else or_(*mine.values()))
    if status:
        stmt = stmt.where(Application.status == status)
    if overdue_at is not None:
        stmt = stmt.where(
            or_(
                and_(Application.status.in_(OPEN), Application.answer_due < overdue_at),
                and_(Application.status == "submitted", Application.review_due < overdue_at),
            )
        )
    stmt = stmt.order_by(Application.submitted_at.desc(), Application.id).limit(limit)
    return [(a, g) for a, g in session.execute(stmt.offset(offset)).all()]


def grant_id_of(session: Session, application_id: uuid.UUID) -> uuid.UUID | None:
    return session.scalar(select(Grant.id).where(Grant.application_id == application_id))


# -- grants ------------------------------------------------------------------------------------
def get_grant(session: Session, grant_id: uuid.UUID) -> Grant | None:
    return session.scalars(
        select(Grant)
        .options(joinedload(Grant.consumer), joinedload(Grant.provider))
        .where(Grant.id == grant_id)
    ).first()


def active_grant(
    session: Session, consumer_id: uuid.UUID, resource: str, now: dt.datetime
) -> Grant | None:
    return session.scalars(
        select(Grant)
        .options(joinedload(Grant.consumer), joinedload(Grant.provider))
        .where(
            Grant.consumer_id == consumer_id,
            Grant.resource_code == resource,
            Grant.revoked_at.is_(None),
            Grant.expires_at > now,
        )
        .order_by(Grant.expires_at.desc())
    ).first()


def latest_grant(session: Session, consumer_id: uuid.UUID, resource: str) -> Grant | None:
    """The most recent grant whatever its state (to say why a read is refused)."""
    return session.scalars(
        select(Grant)
        .where(Grant.consumer_id == consumer_id, Grant.resource_code == resource)
        .order_by(Grant.granted_at.desc())
        .limit(1)
    ).first()


def list_grants(
    session: Session,
    *,
    department_id: uuid.UUID | None,
    side: str | None,
    active_at: dt.datetime | None,
    limit: int,
    offset: int,
) -> Sequence[Grant]:
    stmt = select(Grant).options(joinedload(Grant.consumer), joinedload(Grant.provider))
    if department_id is not None:
        mine = {
            "consumer": Grant.consumer_id == department_id,
            "provider": Grant.provider_id == department_id,
        }
        stmt = stmt.where(mine[side] if side else or_(*mine.values()))
    if active_at is not None:
        stmt = stmt.where(Grant.revoked_at.is_(None), Grant.expires_at > active_at)
    stmt = stmt.order_by(Grant.granted_at.desc(), Grant.id).limit(limit).offset(offset)
    return session.scalars(stmt).all()


def grant_state(session: Session, grant_id: uuid.UUID) -> Any:
    """(revoked_at, expires_at) of a grant, or None."""
    return session.execute(
        select(Grant.revoked_at, Grant.expires_at).where(Grant.id == grant_id)
    ).first()


# -- bulk subscriptions ------------------------------------------------------------------------
def bulk_subscriptions(
    session: Session, consumer_id: uuid.UUID
) -> Sequence[tuple[BulkSubscription, Grant]]:
    stmt = (
        select(BulkSubscription, Grant)
        .join(Grant, Grant.id == BulkSubscription.grant_id)
        .where(Grant.consumer_id == consumer_id)
        .order_by(BulkSubscription.created_at)
    )
    return [(b, g) for b, g in session.execute(stmt).all()]


def bulk_of_subscription(
    session: Session, subscription_id: uuid.UUID
) -> tuple[BulkSubscription, Grant] | None:
    row = session.execute(
        select(BulkSubscription, Grant)
        .join(Grant, Grant.id == BulkSubscription.grant_id)
        .where(BulkSubscription.subscription_id == subscription_id)
    ).first()
    return (row[0], row[1]) if row else None


def feeds_of_grant(session: Session, grant_id: uuid.UUID) -> list[uuid.UUID]:
    stmt = select(BulkSubscription.subscription_id).where(BulkSubscription.grant_id == grant_id)
    return list(session.scalars(stmt))
