"""Deliveries: what a department's inbox holds, and relays refused by the next hop."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy.orm import Session

from exchange.core.db import utcnow
from exchange.core.errors import Unprocessable
from exchange.platforms.exchange.deliveries import repository as deliveries_repo
from exchange.platforms.exchange.errors import (
    DeliveryNotRejected,
)
from exchange.platforms.exchange.models import Delivery

DELIVERY_STATES = ("pending", "rejected", "delivered")


def deliveries(session: Session, state: str, limit: int = 1000) -> Sequence[Delivery]:
    """Relay deliveries to neighbouring nodes in `state` (pending, rejected, delivered)."""
    if state not in DELIVERY_STATES:
        raise Unprocessable(f"state {state!r}: one of {', '.join(DELIVERY_STATES)}")
    return deliveries_repo.node_deliveries(session, state, limit=limit)


def retry_deliveries(
    session: Session, ids: Sequence[int] | None = None, *, all_rejected: bool = False
) -> list[Delivery]:
    """Queue refused deliveries again (after the cause was fixed), to be sent at once."""
    if (ids is None) == (not all_rejected):
        raise Unprocessable("name delivery ids or ask for all rejected ones, not both")
    found = list(deliveries_repo.node_deliveries(session, "rejected", ids=ids, limit=100_000))
    if ids is not None:
        missing = sorted(set(ids) - {d.id for d in found})
        if missing:
            raise DeliveryNotRejected(missing)
    now = utcnow()
    for d in found:
        d.state = "pending"
        d.attempts = 0
        d.next_attempt_at = now
    return found
