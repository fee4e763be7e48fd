"""One entry point per system for the DAGs and `hub check`: open a run, run checks, finish.

A DAG runs each check as its own task (`record_check`), so a failed check is retried alone and
replaces only its own findings; `hub check` runs them all in one process (`run_system`).
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Sequence
from dataclasses import dataclass

from exchange.core.db import utcnow
from exchange.core.runtime import Runtime
from exchange.pipelines import access, drift, ops, runs, security, standards
from exchange.pipelines.alerts import service as alerts
from exchange.pipelines.runs import CheckResult

SECURITY_CHECKS = ("pii", "exposure", "access", "audit_chain", "drift")
# How far behind its date an Airflow run may check. The checks read the node as it is now
# (freshness, heartbeats, backlog, grants, the rows in force): a run for an older date would
# pass today's state off as that date's, so it is refused instead of stored.
BACKFILL_LIMIT = {
    "ops": dt.timedelta(hours=1),
    "standards": dt.timedelta(days=2),
    "security": dt.timedelta(days=2),
}


class BackfillRefused(ValueError):
    pass


def refuse_backfill(system: str, as_of: dt.datetime, now: dt.datetime | None = None) -> None:
    now = now or utcnow()
    late = now - as_of
    if late <= BACKFILL_LIMIT[system]:
        return
    raise BackfillRefused(
        f"hub_{system} checks the node's present state, so a run for "
        f"{as_of:%Y-%m-%d %H:%M} UTC ({late.days} days {late.seconds // 3600} h ago) cannot "
        f"check the data as of then and is refused; runs up to {BACKFILL_LIMIT[system]} "
        f"behind their date are checked. For the state now: trigger hub_{system} without a "
        f"logical date, or `hub check {system}`."
    )


def checks_of(rt: Runtime, system: str) -> list[str]:
    if system == "standards":
        return [standards.CHECK_PREFIX + code for code in standards.resources_to_check(rt)]
    if system == "security":
        return list(SECURITY_CHECKS)
    if system == "ops":
        return list(ops.CHECKS)
    raise ValueError(f"unknown assurance system {system!r}")


def open_run(rt: Runtime, system: str, run_key: str, trigger: str) -> uuid.UUID:
    """The run of (system, run_key); an Airflow run too far behind its date is refused, so a
    backfill or a cleared old run never stores today's state under an old date."""
    if trigger == "airflow":
        refuse_backfill(system, runs.as_of_for(run_key))
    with rt.sessions() as session, session.begin():
        return runs.open_run(session, system, run_key, trigger).id


def _security(rt: Runtime, check: str, public_url: str | None) -> CheckResult:
    if check == "access":
        return access.check_access(rt)
    if check == "audit_chain":
        return access.check_audit_chain(rt)
    if check == "drift":
        return drift.check_drift(rt)
    with security.public_client(rt, public_url) as client:
        if check == "pii":
            return security.check_pii(rt, client)
        if check == "exposure":
            return security.check_exposure(rt, client)
    raise ValueError(f"unknown security check {check!r}; one of {SECURITY_CHECKS}")


def record_check(
    rt: Runtime, system: str, run_id: uuid.UUID, check: str, *, public_url: str | None = None
) -> dict[str, int]:
    """Run one check of a run and store its result; returns counts by severity.

    A check that crashes is a result too: its error is stored as a critical finding and the
    call returns normally, so the run goes on and finishes with status "error"."""
    if system == "standards":
        resource = check.removeprefix(standards.CHECK_PREFIX)
        try:
            standards.check_resource(rt, run_id, resource)
        except Exception as exc:
            result = runs.crashed(check, exc)
        else:
            with rt.sessions() as session:
                found = [f for f in runs.findings(session, run_id) if f.check == check]
            return runs.count_by_severity(found)
    else:
        try:
            if system == "ops":
                result = ops.run_check(rt, check)
            else:
                result = _security(rt, check, public_url)
        except Exception as exc:
            result = runs.crashed(check, exc)
    with rt.sessions() as session, session.begin():
        runs.record(session, runs.get_run(session, run_id), result)
    return runs.count_by_severity(result.issues)


def finish_run(rt: Runtime, run_id: uuid.UUID, planned: Sequence[str] = ()) -> dict[str, int]:
    with rt.sessions() as session, session.begin():
        run = runs.finish(session, runs.get_run(session, run_id), planned)
        return runs.count_by_severity(runs.findings(session, run.id))


@dataclass(frozen=True)
class AlertOutcome:
    counts: dict[str, int]
    status: str | None
    headline: str  # what a red Airflow task says: the worst findings, by subject

    @property
    def critical(self) -> int:
        return self.counts["critical"]


def alert_run(rt: Runtime, run_id: uuid.UUID) -> AlertOutcome:
    """Send what is new about the run's findings through the alert channels; its outcome."""
    alerts.notify(rt, run_id)
    with rt.sessions() as session:
        run = runs.get_run(session, run_id)
        found = list(runs.findings(session, run_id))
    counts = runs.count_by_severity(found)
    worst = [f"{f.kind} on {f.subject}" for f in found if f.severity == "critical"]
    headline = f"hub_{run.system} run {run.run_key}: {run.status}; {counts['critical']} critical"
    if run.error:  # what crashed, in the red task's own message
        headline += f" ({run.error})"
    if worst:
        headline += ": " + "; ".join(worst[:10]) + (" ..." if len(worst) > 10 else "")
    return AlertOutcome(counts, run.status, headline)


def run_system(
    rt: Runtime, system: str, run_key: str, *, trigger: str = "cli", public_url: str | None = None
) -> uuid.UUID:
    run_id = open_run(rt, system, run_key, trigger)
    for check in checks_of(rt, system):
        record_check(rt, system, run_id, check, public_url=public_url)
    finish_run(rt, run_id)
    alerts.notify(rt, run_id)
    return run_id
