"""The quality gate over one Arrow batch: every rule of the resource's schema, vectorised.

Counts are exact; findings are a sample (the first `max_samples` failing rows per rule), so a
batch of a million bad rows costs no more to report than a batch of twenty.
"""

from __future__ import annotations

from typing import Protocol

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from exchange.core.resource_schema import ResourceSchema
from exchange.quality.batch import Batch, Failure
from exchange.quality.evaluators import EVALUATORS
from exchange.quality.report import BLOCKING, Finding, QualityReport
from exchange.quality.rules import Rule, RuleName, derive_rules


class ReferenceChecker(Protocol):
    def missing(self, resource: str, field: str, values: pa.Array) -> pa.Array:
        """Those of the distinct, non-null `values` that `resource`.`field` does not hold."""
        ...


def validate_table(
    table: pa.Table,
    schema: ResourceSchema,
    *,
    max_samples: int = 20,
    references: ReferenceChecker | None = None,
) -> QualityReport:
    batch = Batch(table, schema)
    failures = list(batch.structural)
    for rule in derive_rules(schema):
        fields = rule.params["fields"] if rule.field is None else (rule.field,)
        if not batch.readable(*fields):
            continue  # a missing or unreadable column has its own finding
        if rule.name is RuleName.reference:
            if references is not None:
                failures.extend(_reference(rule, batch, references))
            continue
        failures.extend(EVALUATORS[rule.name](rule, batch))
    return _report(batch, failures, max_samples)


def _reference(rule: Rule, batch: Batch, checker: ReferenceChecker) -> list[Failure]:
    field = rule.field
    assert field is not None
    resource, target = rule.params["resource"], rule.params["field"]
    column, present = batch.column(field), batch.present(field)
    when = rule.params.get("when")
    if when is not None:  # this target applies only to rows where another column has a value
        if not batch.readable(when[0]):
            return []
        chosen = pc.equal(batch.column(when[0]), when[1]).fill_null(False)
        present = present & chosen.to_numpy(zero_copy_only=False)
    # The checker goes to the database: ask once per distinct value, not once per row.
    distinct = pc.unique(column.filter(pa.array(present)))
    missing = checker.missing(resource, target, distinct)
    if len(missing) == 0:
        return []
    unmatched = pc.is_in(column, value_set=missing.cast(column.type))
    rows = present & unmatched.fill_null(False).to_numpy(zero_copy_only=False)
    message = f"{field} has no match in {resource}.{target}"
    return [Failure(rule.name, field, rule.severity, rows, lambda _row: message)]


def _report(batch: Batch, failures: list[Failure], max_samples: int) -> QualityReport:
    counts: dict[str, int] = {}
    shown: dict[str, int] = {}
    findings: list[Finding] = []
    blocking = np.zeros(batch.rows, dtype=bool)
    passed = True
    for failure in failures:
        whole_column = failure.rows is None
        count = batch.rows if failure.rows is None else int(np.count_nonzero(failure.rows))
        if count == 0 and not whole_column:
            continue
        rule = str(failure.rule)
        counts[rule] = counts.get(rule, 0) + count
        if failure.severity == BLOCKING:
            passed = False
            if failure.rows is None:
                blocking[:] = True
            else:
                blocking |= failure.rows
        room = max_samples - shown.get(rule, 0)
        if room <= 0:
            continue
        rows = [None] if failure.rows is None else np.flatnonzero(failure.rows)[:room].tolist()
        findings.extend(_finding(batch, failure, row) for row in rows)
        shown[rule] = shown.get(rule, 0) + len(rows)
    return QualityReport(
        resource=batch.schema.code,
        rows=batch.rows,
        findings=tuple(findings),
        failures_by_rule=counts,
        failed_rows=int(np.count_nonzero(blocking)),
        passed=passed,
        max_samples=max_samples,
    )


def _finding(batch: Batch, failure: Failure, row: int | None) -> Finding:
    field = failure.field
    value = None
    if row is not None and field is not None and failure.show_value:
        value = batch.shown(field, row)
    return Finding(
        rule=str(failure.rule),
        field=field,
        row=row,
        key=None if row is None else batch.key(row),
        value=value,
        message=failure.explain(-1 if row is None else row),
        severity=failure.severity,
    )
