"""Every SQL statement of the exchange platform's lineage."""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session

from exchange.platforms.exchange.models import Receipt


def receipts_of(session: Session, batch_id: uuid.UUID) -> Sequence[Receipt]:
    return session.scalars(
        select(Receipt).where(Receipt.batch_id == batch_id).order_by(Receipt.id)
    ).all()
