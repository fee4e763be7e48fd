"""SQL for department feeds: the subscriptions and queued deliveries of bulk exchange."""

from __future__ import annotations

import uuid
from collections.abc import Collection
from typing import Any, cast

from sqlalchemy import CursorResult, select, update
from sqlalchemy.orm import Session

from exchange.platforms.exchange.models import Delivery, Subscription


def active_among(session: Session, ids: Collection[uuid.UUID]) -> set[uuid.UUID]:
    if not ids:
        return set()
    stmt = select(Subscription.id).where(Subscription.id.in_(ids), Subscription.active)
    return set(session.scalars(stmt))


def deactivate(session: Session, ids: Collection[uuid.UUID]) -> None:
    if ids:
        session.execute(update(Subscription).where(Subscription.id.in_(ids)).values(active=False))


def withdraw_pending(session: Session, department_id: uuid.UUID, resource: str) -> int:
    withdrawn = cast(
        CursorResult[Any],
        session.execute(
            update(Delivery)
            .where(
                Delivery.department_id == department_id,
                Delivery.resource_code == resource,
                Delivery.state == "pending",
            )
            .values(state="withdrawn")
        ),
    )
    return int(withdrawn.rowcount or 0)
