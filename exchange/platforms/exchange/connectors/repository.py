"""Every SQL statement of the exchange platform's connectors."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Sequence

from sqlalchemy import select, update
from sqlalchemy.orm import Session, joinedload

from exchange.platforms.exchange.models import Connector


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


def touch_connector(session: Session, connector_id: uuid.UUID, at: dt.datetime) -> None:
    session.execute(update(Connector).where(Connector.id == connector_id).values(last_seen_at=at))


def mark_pushed(session: Session, connector_id: uuid.UUID, at: dt.datetime) -> None:
    session.execute(update(Connector).where(Connector.id == connector_id).values(last_push_at=at))
