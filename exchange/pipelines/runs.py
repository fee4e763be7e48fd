"""Runs and their findings: every check writes through here, idempotently.

A check owns its findings within a run: recording it again (a retried Airflow task, the same
logical date run twice) replaces what it wrote before, so results never double.
"""

from __future__ import annotations

import datetime as dt
import logging
import uuid
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, Literal

from sqlalchemy.orm import Session

from exchange.core.db import utcnow
from exchange.pipelines import repository as repo
from exchange.pipelines.models import CheckFinding, CheckRun, MetricSample

Severity = Literal["info", "warning", "critical"]
SYSTEMS = ("standards", "security", "ops")
RUN_STATUSES = ("ok", "findings", "error")
CRASHED = "check.error"  # the kind of finding a check that crashed leaves behind
log = logging.getLogger(__name__)


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
    error: str | None = None  # the check as a whole crashed: why (its partial issues are kept)


def crash_issue(check: str, subject: str, exc: BaseException) -> Issue:
    """What a crash leaves: a critical finding naming what could not be checked, and why."""
    return Issue(
        CRASHED,
        "critical",
        subject,
        f"{check} could not check {subject}: {_why(exc)}",
        {"check": check, "error": type(exc).__name__},
    )


@contextmanager
def guard(result: CheckResult, subject: str) -> Iterator[None]:
    """Check one subject (a resource, a node ...): a crash on it becomes an error finding for
    it, and the check goes on with the next one instead of losing the whole run."""
    try:
        yield
    except Exception as exc:
        log.warning(
            "check crashed on one subject",
            extra={"check": result.check, "subject": subject, "error": type(exc).__name__},
        )
        result.issues.append(crash_issue(result.check, subject, exc))


def crashed(check: str, exc: BaseException) -> CheckResult:
    """A check that could not run at all: its result is the crash."""
    log.warning("check crashed", extra={"check": check, "error": type(exc).__name__})
    return CheckResult(check, issues=[crash_issue(check, check, exc)], error=_why(exc))


def _why(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {exc}"[:500]


def _escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


def as_of_for(run_key: str) -> dt.datetime:
    """The date a run checks: the logical date its key names, else (manual runs) now."""
    try:
        when = dt.datetime.fromisoformat(run_key)
    except ValueError:
        return utcnow()
    return when if when.tzinfo else when.replace(tzinfo=dt.UTC)


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
        run = CheckRun(
            system=system, run_key=run_key, trigger=trigger, checks={}, as_of=as_of_for(run_key)
        )
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
    # Check tasks of one run record at the same time: each merges its entry into `checks`
    # under the run's row lock, or the last writer would drop the others' entries (and the
    # run would end as "error: the check did not report").
    session.refresh(run, with_for_update=True)
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
    if result.error:
        status = "error"
    elif result.unavailable:
        status = f"not available: {result.unavailable}"
    else:
        status = "ok"
    critical = sum(i.severity == "critical" for i in result.issues)
    errors = sum(i.kind == CRASHED for i in result.issues)
    entry: dict[str, Any] = {
        "status": status,
        "findings": len(result.issues),
        "critical": critical,
        "errors": errors,
    }
    if result.error:
        entry["error"] = result.error
    run.checks = {**run.checks, result.check: entry}
    session.flush()


def finish(session: Session, run: CheckRun, planned: Sequence[str] = ()) -> CheckRun:
    """Close the run with a status, whatever happened to its checks: a planned check that
    never reported (its task killed, timed out, out of retries) is recorded as crashed."""
    session.refresh(run, with_for_update=True)
    for check in planned:
        if check not in run.checks:
            record(session, run, crashed(check, RuntimeError("the check did not report")))
    found = findings(session, run.id)
    errors = [f for f in found if f.kind == CRASHED]
    failed = [name for name, c in sorted(run.checks.items()) if c.get("status") == "error"]
    if errors or failed:
        run.status = "error"
        run.error = errors[0].message if errors else f"{failed[0]} crashed"
    elif any(f.severity != "info" for f in found):
        run.status, run.error = "findings", None
    else:
        run.status, run.error = "ok", None
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
