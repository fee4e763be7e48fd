"""Runs and their findings: every check writes through here, idempotently.

A check owns its findings within a run: recording it again (a retried Airflow task, the same
logical date run twice) replaces what it wrote before, so results never double.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from sqlalchemy.orm import Session

from exchange.core.db import utcnow
from exchange.pipelines import repository as repo
from exchange.pipelines.models import CheckFinding, CheckRun, MetricSample

Severity = Literal["info", "warning", "critical"]
SYSTEMS = ("standards", "security", "ops")


@dataclass(frozen=True)
class Issue:
    """A finding before it is stored."""

    kind: str
    severity: Severity
    subject: str
    message: str
    detail: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Gauge:
    name: str
    value: float
    labels: dict[str, str] = field(default_factory=dict)

    @property
    def label_text(self) -> str:
        return ",".join(f'{k}="{_escape(v)}"' for k, v in sorted(self.labels.items()))


@dataclass
class CheckResult:
    """What one check reports: its issues, its gauges, or why it could not run."""

    check: str
    issues: list[Issue] = field(default_factory=list)
    gauges: list[Gauge] = field(default_factory=list)
    unavailable: str | None = None  # e.g. "table audit_entry not present on this node"


def _escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


def run_key_for(logical_date: dt.datetime | None) -> str:
    """Airflow runs are keyed by their logical date; direct calls by the current minute."""
    if logical_date is None:
        return "manual:" + utcnow().strftime("%Y-%m-%dT%H:%M")
    return logical_date.astimezone(dt.UTC).isoformat(timespec="seconds")


def open_run(session: Session, system: str, run_key: str, trigger: str) -> CheckRun:
    if system not in SYSTEMS:
        raise ValueError(f"unknown assurance system {system!r}; one of {SYSTEMS}")
    run = repo.run_by_key(session, system, run_key)
    if run is None:
        run = CheckRun(system=system, run_key=run_key, trigger=trigger, checks={})
        session.add(run)
        session.flush()
    return run


def get_run(session: Session, run_id: uuid.UUID) -> CheckRun:
    run = session.get(CheckRun, run_id)
    if run is None:
        raise LookupError(f"check run {run_id} not found")
    return run


def record(session: Session, run: CheckRun, result: CheckResult) -> None:
    """Replace this check's findings and gauges in the run with `result`."""
    prefix = f"hub_{run.system}_{result.check}_"
    repo.drop_check(session, run.id, result.check, prefix)
    now = utcnow()
    session.add_all(
        CheckFinding(
            run_id=run.id,
            check=result.check,
            kind=i.kind,
            severity=i.severity,
            subject=i.subject[:200],
            message=i.message,
            detail=i.detail,
            found_at=now,
        )
        for i in result.issues
    )
    session.add_all(
        MetricSample(
            run_id=run.id, name=prefix + g.name, labels=g.label_text, value=g.value, at=now
        )
        for g in result.gauges
    )
    status = f"not available: {result.unavailable}" if result.unavailable else "ok"
    critical = sum(i.severity == "critical" for i in result.issues)
    run.checks = {
        **run.checks,
        result.check: {"status": status, "findings": len(result.issues), "critical": critical},
    }
    session.flush()


def finish(session: Session, run: CheckRun) -> CheckRun:
    run.finished_at = utcnow()
    session.flush()
    return run


def findings(session: Session, run_id: uuid.UUID) -> Sequence[CheckFinding]:
    return repo.findings(session, run_id)


def latest_run(session: Session, system: str) -> CheckRun | None:
    return repo.latest_run(session, system)


def latest_samples(session: Session) -> Sequence[MetricSample]:
    """The gauges of the latest finished run of each system (what /metrics exports)."""
    runs = [r.id for s in SYSTEMS if (r := latest_run(session, s)) is not None]
    if not runs:
        return []
    return repo.samples_of(session, runs)


def series(session: Session, name: str, since: dt.datetime) -> list[tuple[dt.datetime, float]]:
    """One gauge over time, summed over its labels per run (the ops page's charts)."""
    return repo.series(session, name, since)


def count_by_severity(items: Iterable[CheckFinding | Issue]) -> dict[str, int]:
    out = {"info": 0, "warning": 0, "critical": 0}
    for i in items:
        out[i.severity] += 1
    return out
