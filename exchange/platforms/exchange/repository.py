"""Every SQL statement of the exchange platform."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Sequence

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session, joinedload

from exchange.directory.models import Node, Resource
from exchange.platforms.exchange.models import Batch, Connector, Delivery, Receipt, Subscription


def get_node(session: Session, code: str) -> Node | None:
    return session.get(Node, code)


# -- connectors ------------------------------------------------------------------------------
def get_connector(session: Session, connector_id: uuid.UUID) -> Connector | None:
    return session.get(Connector, connector_id)


def get_connector_with_department(session: Session, connector_id: uuid.UUID) -> Connector | None:
    return session.scalars(
        select(Connector)
        .options(joinedload(Connector.department))
        .where(Connector.id == connector_id)
    ).first()


def get_connector_by_key(session: Session, public_key: str) -> Connector | None:
    return session.scalars(select(Connector).where(Connector.public_key == public_key)).first()


def list_connectors(session: Session) -> Sequence[Connector]:
    return session.scalars(
        select(Connector).options(joinedload(Connector.department)).order_by(Connector.created_at)
    ).all()


def add(session: Session, obj: object) -> None:
    session.add(obj)
    session.flush()


def touch_connector(session: Session, connector_id: uuid.UUID, at: dt.datetime) -> None:
    session.execute(update(Connector).where(Connector.id == connector_id).values(last_seen_at=at))


def pending_for_department(session: Session, department_id: uuid.UUID) -> int:
    return (
        session.scalar(
            select(func.count())
            .select_from(Delivery)
            .where(Delivery.department_id == department_id, Delivery.state == "pending")
        )
        or 0
    )


# -- batches and receipts -------------------------------------------------------------------
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


def receipts_of(session: Session, batch_id: uuid.UUID) -> Sequence[Receipt]:
    return session.scalars(
        select(Receipt).where(Receipt.batch_id == batch_id).order_by(Receipt.id)
    ).all()


def deliveries_of(session: Session, batch_id: uuid.UUID) -> Sequence[Delivery]:
    return session.scalars(
        select(Delivery).where(Delivery.batch_id == batch_id).order_by(Delivery.id)
    ).all()


# -- routing -----------------------------------------------------------------------------
def subscriptions_for(session: Session, resource_code: str) -> Sequence[Subscription]:
    return session.scalars(
        select(Subscription).where(
            Subscription.resource_code == resource_code, Subscription.active.is_(True)
        )
    ).all()


def find_subscription(
    session: Session, resource_code: str, department_id: uuid.UUID | None, node_code: str | None
) -> Subscription | None:
    return session.scalars(
        select(Subscription)
        .where(
            Subscription.resource_code == resource_code,
            Subscription.department_id.is_(None)
            if department_id is None
            else Subscription.department_id == department_id,
            Subscription.node_code.is_(None)
            if node_code is None
            else Subscription.node_code == node_code,
        )
        .order_by(Subscription.created_at)
        .limit(1)
    ).first()


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


def existing_batch_ids(session: Session, ids: Sequence[uuid.UUID]) -> set[uuid.UUID]:
    found: set[uuid.UUID] = set()
    for start in range(0, len(ids), 500):
        chunk = ids[start : start + 500]
        found.update(session.scalars(select(Batch.id).where(Batch.id.in_(chunk))))
    return found


def mark_pushed(session: Session, connector_id: uuid.UUID, at: dt.datetime) -> None:
    session.execute(update(Connector).where(Connector.id == connector_id).values(last_push_at=at))


def bump_resource(session: Session, code: str, at: dt.datetime, row_delta: int = 0) -> None:
    session.execute(
        update(Resource)
        .where(Resource.code == code)
        .values(last_updated_at=at, row_count=Resource.row_count + row_delta)
    )
