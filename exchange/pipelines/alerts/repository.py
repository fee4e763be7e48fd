"""SQL of the alert state."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session

from exchange.pipelines.alerts.models import AssuranceAlert


def alerts_of(session: Session, system: str) -> Sequence[AssuranceAlert]:
    return session.scalars(
        select(AssuranceAlert).where(AssuranceAlert.system == system).order_by(AssuranceAlert.id)
    ).all()


def open_alerts(session: Session) -> Sequence[AssuranceAlert]:
    return session.scalars(
        select(AssuranceAlert)
        .where(AssuranceAlert.state == "open")
        .order_by(AssuranceAlert.severity, AssuranceAlert.opened_at)
    ).all()


def get(session: Session, alert_id: int) -> AssuranceAlert | None:
    return session.get(AssuranceAlert, alert_id)
