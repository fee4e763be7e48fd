"""What the assurance pipelines store: runs, findings, quality reports and metric samples.

A run is keyed by (system, run_key): a DAG run uses its logical date, so a retried or re-run
task replaces its own results instead of adding a second copy (upsert, never plain insert).
"""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from sqlalchemy import BigInteger, Float, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from exchange.core.db import Base, BigIntPK, JSONDoc, new_id, utcnow


class CheckRun(Base):
    """One run of one assurance system (standards, security or ops)."""

    __tablename__ = "check_run"
    __table_args__ = (UniqueConstraint("system", "run_key"),)

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    system: Mapped[str] = mapped_column(String(16))
    run_key: Mapped[str] = mapped_column(String(64))  # the logical date, or manual:<time>
    trigger: Mapped[str] = mapped_column(String(16))  # airflow | cli
    started_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    finished_at: Mapped[dt.datetime | None]
    # per check: {"findings": n, "critical": n, "status": "ok" | "error" | "not available: ..."}
    checks: Mapped[dict[str, Any]] = mapped_column(JSONDoc, default=dict)
    # The date whose data the run checked (the logical date; a manual run's own time): "latest"
    # means the newest of these, so a backfill of an old date finishing last never hides a
    # later run's results.
    as_of: Mapped[dt.datetime | None] = mapped_column(index=True)
    # ok | findings (a warning or critical) | error (a check crashed or never reported);
    # None while the run is under way
    status: Mapped[str | None] = mapped_column(String(16))
    error: Mapped[str | None] = mapped_column(Text)  # the first crashed check and why


class CheckFinding(Base):
    """One problem a check found. `check` names the check that owns (and replaces) it."""

    __tablename__ = "check_finding"
    __table_args__ = (Index("ix_check_finding_run_check", "run_id", "check"),)

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True, autoincrement=True)
    run_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("check_run.id", ondelete="CASCADE"))
    check: Mapped[str] = mapped_column(String(64))
    kind: Mapped[str] = mapped_column(String(64))  # e.g. pii.resident_id, freshness.overdue
    severity: Mapped[str] = mapped_column(String(8), index=True)  # info | warning | critical
    subject: Mapped[str] = mapped_column(String(200))  # resource, connector, node, grant ...
    message: Mapped[str] = mapped_column(Text)
    detail: Mapped[dict[str, Any]] = mapped_column(JSONDoc, default=dict)
    found_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class QualityRun(Base):
    """The standards report of one resource in one run: the catalogue's quality score source."""

    __tablename__ = "quality_run"
    __table_args__ = (UniqueConstraint("run_id", "resource_code"),)

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True, autoincrement=True)
    run_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("check_run.id", ondelete="CASCADE"))
    resource_code: Mapped[str] = mapped_column(ForeignKey("resource.code"), index=True)
    engine: Mapped[str] = mapped_column(String(32))  # great_expectations | arrow
    rows: Mapped[int] = mapped_column(BigInteger)
    failed_rows: Mapped[int] = mapped_column(BigInteger)
    pass_rate: Mapped[float] = mapped_column(Float)
    passed: Mapped[bool]
    rules: Mapped[int] = mapped_column(default=0)
    failures_by_rule: Mapped[dict[str, Any]] = mapped_column(JSONDoc, default=dict)
    samples: Mapped[list[dict[str, Any]]] = mapped_column(JSONDoc, default=list)
    seconds: Mapped[float] = mapped_column(Float, default=0.0)
    checked_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class MetricSample(Base):
    """One gauge value measured by a run; /metrics and the ops page read the latest ones."""

    __tablename__ = "metric_sample"
    __table_args__ = (
        UniqueConstraint("run_id", "name", "labels"),
        Index("ix_metric_sample_name_at", "name", "at"),
    )

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True, autoincrement=True)
    run_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("check_run.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(64))
    # Prometheus label pairs rendered once, sorted (`destination="330106000000"`), or "".
    labels: Mapped[str] = mapped_column(String(200), default="")
    value: Mapped[float] = mapped_column(Float)
    at: Mapped[dt.datetime] = mapped_column(default=utcnow)
