"""SQL of the assurance pipelines: runs, findings, gauges, stored standards reports, and the
statements the checks read the node with (ops, rights in use, personal data scans)."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterator, Sequence
from typing import Any

from sqlalchemy import (
    Connection,
    Integer,
    Row,
    String,
    Uuid,
    bindparam,
    column,
    delete,
    func,
    select,
    table,
    text,
)
from sqlalchemy import case as sql_case
from sqlalchemy.orm import Session

from exchange.core.db import UTCDateTime
from exchange.core.resource_schema import ResourceSchema
from exchange.datastore.tables import current_name, tables_for
from exchange.directory.models import Department, Resource
from exchange.pipelines.models import CheckFinding, CheckRun, MetricSample, QualityRun
from exchange.platforms.exchange.models import Batch, Connector, Delivery
from exchange.quality import sql_checks as sqlc
from exchange.quality.personal_data import Kind, SqlScan


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
    for owner, name in rows:
        out.setdefault(str(owner), set()).add(str(name))
    return out


# -- ops ---------------------------------------------------------------------------------------
def catalogue(session: Session) -> Sequence[Resource]:
    return session.scalars(select(Resource).order_by(Resource.code)).all()


def active_connectors(session: Session) -> list[tuple[Connector, str]]:
    """Each active connector with its department's code."""
    rows = session.execute(
        select(Connector, Department.code)
        .join(Department, Department.id == Connector.department_id)
        .where(Connector.state == "active")
        .order_by(Department.code, Connector.name)
    ).all()
    return [(c, str(code)) for c, code in rows]


def pending_by_destination(session: Session) -> list[tuple[str, int, dt.datetime]]:
    """Pending deliveries per destination (node code or department id): count, oldest."""
    destination = func.coalesce(
        Delivery.node_code, func.cast(Delivery.department_id, Department.code.type)
    )
    rows = session.execute(
        select(destination, func.count(), func.min(Delivery.created_at))
        .where(Delivery.state == "pending")
        .group_by(destination)
    ).all()
    return [(str(dest), int(count), oldest) for dest, count, oldest in rows]


def failing_deliveries(session: Session, alarm_attempts: int) -> Sequence[Delivery]:
    """Relays refused for good, and ones the next hop keeps turning away."""
    return session.scalars(
        select(Delivery)
        .where(
            Delivery.node_code.is_not(None),
            (Delivery.state == "rejected")
            | ((Delivery.state == "pending") & (Delivery.attempts >= alarm_attempts)),
        )
        .order_by(Delivery.id)
    ).all()


def database_bytes(conn: Connection) -> float:
    """PostgreSQL's size of the current database."""
    return float(conn.execute(text("SELECT pg_database_size(current_database())")).scalar_one())


def quarantined_by_resource(session: Session, since: dt.datetime) -> list[tuple[str, int, int]]:
    """Quarantined batches per resource: in all, and received since `since`."""
    rows = session.execute(
        select(Batch.resource_code, func.count(), func.count().filter(Batch.received_at >= since))
        .where(Batch.status == "quarantined")
        .group_by(Batch.resource_code)
    ).all()
    return [(str(r), int(total), int(recent)) for r, total, recent in rows]


# -- security: grants that still hold -----------------------------------------------------------
HOLDING_GRANTS = """
SELECT resource_code, id FROM sharing_grant
WHERE resource_code IN :codes AND revoked_at IS NULL AND expires_at > :now
ORDER BY resource_code, id
"""


def holding_grants(
    session: Session, codes: Sequence[str], now: dt.datetime
) -> list[tuple[str, uuid.UUID]]:
    # raw SQL: the sharing platform's tables are not this package's models to import
    query = (
        text(HOLDING_GRANTS)
        .bindparams(bindparam("codes", expanding=True), bindparam("now", type_=UTCDateTime()))
        .columns(column("resource_code", String()), column("id", Uuid()))
    )
    return [(str(c), g) for c, g in session.execute(query, {"codes": list(codes), "now": now})]


# -- security: rights in use --------------------------------------------------------------------
_AUDIT = table(
    "audit_entry",
    column("department", String()),
    column("at", UTCDateTime()),
    column("rows", Integer()),
    column("outcome", String()),
)

# A read after its grant ended: `revoked` when the revocation came first, else `expired`.
READS_AFTER_END = """
SELECT g.id, g.consumer_id, g.resource_code,
       CASE WHEN g.revoked_at IS NOT NULL AND g.revoked_at < g.expires_at
            THEN 'revoked' ELSE 'expired' END AS how,
       CASE WHEN g.revoked_at IS NOT NULL AND g.revoked_at < g.expires_at
            THEN g.revoked_at ELSE g.expires_at END AS ended,
       count(*) AS uses, sum(e.rows) AS read_rows, max(e.at) AS last
FROM audit_entry e JOIN sharing_grant g ON e.grant_id = g.id
WHERE e.outcome = 'ok'
  AND (e.at > g.expires_at OR (g.revoked_at IS NOT NULL AND e.at > g.revoked_at))
GROUP BY g.id, g.consumer_id, g.resource_code, g.expires_at, g.revoked_at
ORDER BY g.resource_code, g.id
"""

DORMANT_CLIENTS = """
SELECT id, name, last_token_at FROM sharing_client
WHERE revoked_at IS NULL AND coalesce(last_token_at, created_at) < :cutoff
ORDER BY name
"""


def reads_after_end(conn: Connection) -> list[tuple[Any, ...]]:
    """(grant id, consumer id, resource, how it ended, when, uses, rows read, last use)."""
    return [
        tuple(row)
        for row in conn.execute(
            # typed, so ids read back as UUIDs and times as UTC on SQLite too
            text(READS_AFTER_END).columns(
                column("id", Uuid()),
                column("consumer_id", Uuid()),
                column("resource_code", String()),
                column("how", String()),
                column("ended", UTCDateTime()),
                column("uses", Integer()),
                column("read_rows", Integer()),
                column("last", UTCDateTime()),
            )
        )
    ]


def dormant_clients(conn: Connection, cutoff: dt.datetime) -> list[tuple[Any, ...]]:
    """(client id, name, last token) of credentials unused since `cutoff`."""
    return [
        tuple(row)
        for row in conn.execute(
            text(DORMANT_CLIENTS)
            .bindparams(bindparam("cutoff", type_=UTCDateTime()))
            .columns(column("id", Uuid()), column("name", String()), column("last", UTCDateTime())),
            {"cutoff": cutoff},
        )
    ]


def rows_read_per_day(conn: Connection, bounds: Sequence[dt.datetime]) -> list[tuple[Any, ...]]:
    """Per department: rows read in each window (bounds[d + 1], bounds[d]], d = 0 first (the
    most recent), one grouped query summed in the database."""
    days = [
        func.coalesce(
            func.sum(
                sql_case(
                    ((_AUDIT.c.at > bounds[d + 1]) & (_AUDIT.c.at <= bounds[d]), _AUDIT.c.rows),
                    else_=0,
                )
            ),
            0,
        ).label(f"d{d}")
        for d in range(len(bounds) - 1)
    ]
    query = (
        select(_AUDIT.c.department, *days)
        .where(
            _AUDIT.c.at > bounds[-1],
            _AUDIT.c.at <= bounds[0],
            _AUDIT.c.outcome == "ok",
            _AUDIT.c.department.is_not(None),
        )
        .group_by(_AUDIT.c.department)
        .order_by(_AUDIT.c.department)
    )
    return [tuple(row) for row in conn.execute(query)]


# -- security: personal data in open datasets --------------------------------------------------
def pii_counts(session: Session, schema: ResourceSchema, scans: Sequence[SqlScan]) -> Row[Any]:
    """One scan of the whole table in PostgreSQL: per (column, kind), the count of values
    holding it, the first such value and the first such row's key (c{j}, v{j}, k{j})."""
    key = " || '|' || ".join(f"coalesce({sqlc.q(k)}::text, '')" for k in schema.primary_key)
    extracted = [f"({key}) AS k", *(e for s in scans for e in s.extract())]
    measures: list[str] = []
    for j, (s, kind) in enumerate((s, kind) for s in scans for kind in Kind):
        cond, value = s.found(kind), sqlc.q(s.value(kind))
        measures += [
            f"count(*) FILTER (WHERE {cond}) AS c{j}",
            f"min({value}) FILTER (WHERE {cond}) AS v{j}",
            f"min(k) FILTER (WHERE {cond}) AS k{j}",
        ]
    # Built from schema identifiers (validated, quoted) and the detector's own patterns,
    # never from request values.
    sql = (
        f"SELECT {', '.join(measures)} FROM (SELECT {', '.join(extracted)} "  # noqa: S608
        f"FROM {sqlc.q(current_name(schema.code))} WHERE NOT _deleted) s"
    )
    return session.execute(text(sql)).one()


def public_values(
    session: Session, schema: ResourceSchema, columns: Sequence[str]
) -> Iterator[Row[Any]]:
    """(key parts ..., the columns' values ...) of every row in force (the embedded node)."""
    current = tables_for(schema).current
    keys = [current.c[k] for k in schema.primary_key]
    query = select(*keys, *(current.c[c] for c in columns)).where(current.c._deleted.is_(False))
    yield from session.execute(query)
