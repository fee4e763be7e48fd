"""Every SQL statement of the exchange platform's subscriptions."""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session

from exchange.platforms.exchange.models import Subscription


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
