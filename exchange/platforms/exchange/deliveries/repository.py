"""Every SQL statement of the exchange platform's deliveries."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Sequence

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from exchange.platforms.exchange.models import Delivery


def pending_for_department(session: Session, department_id: uuid.UUID) -> int:
    return (
        session.scalar(
            select(func.count())
            .select_from(Delivery)
            .where(Delivery.department_id == department_id, Delivery.state == "pending")
        )
        or 0
    )


def deliveries_of(session: Session, batch_id: uuid.UUID) -> Sequence[Delivery]:
    return session.scalars(
        select(Delivery).where(Delivery.batch_id == batch_id).order_by(Delivery.id)
    ).all()


def inbox(session: Session, department_id: uuid.UUID, limit: int) -> Sequence[Delivery]:
    return session.scalars(
        select(Delivery)
        .where(Delivery.department_id == department_id, Delivery.state == "pending")
        .order_by(Delivery.id)
        .limit(limit)
    ).all()


def get_delivery(session: Session, delivery_id: int) -> Delivery | None:
    return session.get(Delivery, delivery_id)


def due_node_deliveries(session: Session, now: dt.datetime, limit: int) -> Sequence[Delivery]:
    """The oldest pending delivery per (node, resource) that is due, claimed for this worker.

    Only the head of each queue is eligible, so one resource's batches arrive in order.
    """
    heads = (
        select(func.min(Delivery.id))
        .where(Delivery.node_code.is_not(None), Delivery.state == "pending")
        .group_by(Delivery.node_code, Delivery.resource_code)
    )
    stmt = (
        select(Delivery)
        .where(Delivery.id.in_(heads), Delivery.next_attempt_at <= now)
        .order_by(Delivery.id)
        .limit(limit)
    )
    if session.get_bind().dialect.name == "postgresql":
        stmt = stmt.with_for_update(skip_locked=True)
    return session.scalars(stmt).all()


def node_deliveries(
    session: Session, state: str, *, limit: int = 1000, ids: Sequence[int] | None = None
) -> Sequence[Delivery]:
    stmt = select(Delivery).where(Delivery.node_code.is_not(None), Delivery.state == state)
    if ids is not None:
        stmt = stmt.where(Delivery.id.in_(ids))
    return session.scalars(stmt.order_by(Delivery.id).limit(limit)).all()
