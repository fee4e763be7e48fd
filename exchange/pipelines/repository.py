"""SQL of the assurance runs: runs, findings, gauges and the stored standards reports."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Sequence

from sqlalchemy import Connection, delete, func, select, text
from sqlalchemy.orm import Session

from exchange.directory.models import Resource
from exchange.pipelines.models import CheckFinding, CheckRun, MetricSample, QualityRun


def run_by_key(session: Session, system: str, run_key: str) -> CheckRun | None:
    return session.scalars(
        select(CheckRun).where(CheckRun.system == system, CheckRun.run_key == run_key)
    ).first()


def drop_check(session: Session, run_id: uuid.UUID, check: str, gauge_prefix: str) -> None:
    """Delete what one check wrote into a run: its findings and its gauges."""
    session.execute(
        delete(CheckFinding).where(CheckFinding.run_id == run_id, CheckFinding.check == check)
    )
    session.execute(
        delete(MetricSample).where(
            MetricSample.run_id == run_id, MetricSample.name.startswith(gauge_prefix)
        )
    )


def findings(session: Session, run_id: uuid.UUID) -> Sequence[CheckFinding]:
    return session.scalars(
        select(CheckFinding)
        .where(CheckFinding.run_id == run_id)
        .order_by(CheckFinding.check, CheckFinding.severity, CheckFinding.id)
    ).all()


def latest_run(session: Session, system: str) -> CheckRun | None:
    return session.scalars(
        select(CheckRun)
        .where(CheckRun.system == system, CheckRun.finished_at.is_not(None))
        # the newest date checked, not the last to finish: a backfill is never "latest"
        .order_by(CheckRun.as_of.desc().nulls_last(), CheckRun.finished_at.desc())
    ).first()


def samples_of(session: Session, run_ids: Sequence[uuid.UUID]) -> Sequence[MetricSample]:
    return session.scalars(
        select(MetricSample).where(MetricSample.run_id.in_(run_ids)).order_by(MetricSample.name)
    ).all()


def series(session: Session, name: str, since: dt.datetime) -> list[tuple[dt.datetime, float]]:
    rows = session.execute(
        select(MetricSample.at, func.sum(MetricSample.value))
        .where(MetricSample.name == name, MetricSample.at >= since)
        .group_by(MetricSample.run_id, MetricSample.at)
        .order_by(MetricSample.at)
    ).all()
    return [(at, float(v)) for at, v in rows]


def resource_codes(session: Session) -> Sequence[str]:
    return session.scalars(select(Resource.code).order_by(Resource.code)).all()


def quality_run(session: Session, run_id: uuid.UUID, resource: str) -> QualityRun | None:
    return session.scalars(
        select(QualityRun).where(QualityRun.run_id == run_id, QualityRun.resource_code == resource)
    ).first()


def quality_runs(session: Session, run_id: uuid.UUID) -> list[QualityRun]:
    return list(
        session.scalars(
            select(QualityRun).where(QualityRun.run_id == run_id).order_by(QualityRun.resource_code)
        )
    )


def enabled_triggers(conn: Connection) -> dict[str, set[str]]:
    """Each table's triggers that fire: PostgreSQL's enabled user triggers, SQLite's all."""
    if conn.dialect.name == "postgresql":
        rows = conn.execute(
            text(
                "SELECT c.relname, t.tgname FROM pg_trigger t "
                "JOIN pg_class c ON c.oid = t.tgrelid "
                "WHERE NOT t.tgisinternal AND t.tgenabled <> 'D' "
                "AND c.relnamespace = to_regnamespace(current_schema())"
            )
        ).all()
    else:
        rows = conn.execute(
            text("SELECT tbl_name, name FROM sqlite_master WHERE type = 'trigger'")
        ).all()
    out: dict[str, set[str]] = {}
    for table, name in rows:
        out.setdefault(str(table), set()).add(str(name))
    return out
