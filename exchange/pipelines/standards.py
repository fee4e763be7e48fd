"""Standards: every resource's stored rows against its schema's rules, nightly.

The rules and their names are the intake gate's (`derive_rules`); here they run over what is
already in `ds_<code>` (rows that bypassed the gate, rules added since, references that broke
when the referenced row was deleted). Each resource gets a stored report, its catalogue quality
score is recomputed with the report's pass rate (`quality.score`), and each failing rule becomes
a finding.
"""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import inspect
from sqlalchemy.orm import Session

from exchange.core.runtime import Runtime
from exchange.datastore.tables import current_name
from exchange.directory.models import Resource
from exchange.pipelines import repository as repo
from exchange.pipelines import runs
from exchange.pipelines.models import QualityRun
from exchange.pipelines.runs import CheckResult, Issue
from exchange.quality import score as quality_score
from exchange.quality.report import BLOCKING
from exchange.quality.stored import validate_stored

CHECK_PREFIX = "resource:"  # each resource is its own check, so it can be retried alone


def resources_to_check(rt: Runtime) -> list[str]:
    """Catalogued resources whose table exists on this node."""
    tables = set(inspect(rt.engine).get_table_names())
    with rt.sessions() as session:
        codes = repo.resource_codes(session)
    return [c for c in codes if c in rt.schemas and current_name(c) in tables]


def check_resource(rt: Runtime, run_id: uuid.UUID, resource: str) -> int:
    """Validate one resource in the database, store its report, set its score; the report id."""
    stored = validate_stored(rt.engine, rt.schemas[resource])
    report = stored.report
    with rt.sessions() as session, session.begin():
        run = runs.get_run(session, run_id)
        row = repo.quality_run(session, run_id, resource) or QualityRun(
            run_id=run_id, resource_code=resource
        )
        row.engine = stored.engine
        row.rows = report.rows
        row.failed_rows = report.failed_rows
        row.pass_rate = round(report.pass_rate, 6)
        row.passed = report.passed
        row.rules = stored.rules
        row.failures_by_rule = dict(report.failures_by_rule)
        row.samples = [f.to_dict() for f in report.findings]
        row.seconds = round(stored.seconds, 3)
        session.add(row)
        entry = session.get(Resource, resource)
        if entry is not None:
            rate = report.pass_rate if report.rows else None
            entry.quality_score = quality_score.assess(entry, rate).score
        targets = {
            spec.name: [t for _, t in spec.references]
            for spec in rt.schemas[resource].fields
            if spec.references
        }
        runs.record(
            session,
            run,
            _result(resource, report.failures_by_rule, report.findings, report.rows, targets),
        )
        session.flush()
        return row.id


SAMPLE_KEYS = 20  # what an operator needs to find the rows, not the whole table


def _detail(
    rule: str, count: int, shown: list[Any], targets: dict[str, list[str]]
) -> dict[str, Any]:
    """Enough to act on: the rows' keys (composite keys joined by "|"), the fields, the values
    (already masked by the gate where the field is personal), and for a broken reference the
    resource it points into and the values missing there."""
    fields = sorted({f.field for f in shown if f.field})
    detail: dict[str, Any] = {
        "rule": rule,
        "count": count,
        "fields": fields,
        "keys": [f.key for f in shown if f.key is not None][:SAMPLE_KEYS],
        "samples": [f.to_dict() for f in shown[:SAMPLE_KEYS]],
    }
    if rule.startswith("reference"):
        detail["targets"] = sorted({t for name in fields for t in targets.get(name, [])})
        detail["missing"] = sorted({f.value for f in shown if f.value is not None})[:SAMPLE_KEYS]
    return detail


def _result(
    resource: str,
    failures: dict[str, int],
    samples: tuple[Any, ...],
    rows: int,
    targets: dict[str, list[str]] | None = None,
) -> CheckResult:
    result = CheckResult(CHECK_PREFIX + resource)
    for rule, count in sorted(failures.items()):
        shown = [f for f in samples if f.rule == rule]
        blocking = any(f.severity == BLOCKING for f in shown) or not shown
        result.issues.append(
            Issue(
                kind=f"rule.{rule}",
                # A blocking rule broken by stored rows means published data the gate would
                # have refused: critical. Warning rules stay warnings.
                severity="critical" if blocking else "warning",
                subject=resource,
                message=f"{count} of {rows} rows of {resource} fail {rule}",
                detail=_detail(rule, count, shown, targets or {}),
            )
        )
    result.gauges.append(
        runs.Gauge("failures", float(sum(failures.values())), {"resource": resource})
    )
    return result


def quality_reports(session: Session, run_id: uuid.UUID) -> list[QualityRun]:
    return repo.quality_runs(session, run_id)
