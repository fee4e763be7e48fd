"""The standards rules over a resource's stored table: the nightly twin of the intake gate.

`validate_stored` is the one door: same rules (`derive_rules`), same rule names, same masked
findings as `validate_table`. On PostgreSQL the rules run inside the database through Great
Expectations (one bundled scan for the column rules, anti-joins for references; rows are never
pulled out). The embedded SQLite node has small tables and no regex operator, so there the live
rows are read as Arrow and given to the gate itself.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import pyarrow as pa
from sqlalchemy import Engine, inspect, select, text

from exchange.core import masking
from exchange.core.resource_schema import ResourceSchema
from exchange.datastore.references import DatabaseReferences
from exchange.datastore.tables import current_name, tables_for
from exchange.quality.arrow_checks import validate_table
from exchange.quality.report import BLOCKING, Finding, QualityReport
from exchange.quality.rules import derive_rules
from exchange.quality.sql_checks import q


class StoredCheckError(RuntimeError):
    """A rule could not be evaluated: the run is not a pass, whatever else it found."""


@dataclass(frozen=True)
class StoredReport:
    report: QualityReport
    engine: str  # great_expectations | arrow
    rules: int
    seconds: float
    enforced: tuple[str, ...]  # rules the database guarantees (constraints), not re-scanned


def validate_stored(
    engine: Engine, schema: ResourceSchema, *, max_samples: int = 20
) -> StoredReport:
    start = time.perf_counter()
    if engine.dialect.name == "postgresql":
        report, rules, enforced = _with_great_expectations(engine, schema, max_samples)
        kind = "great_expectations"
    else:
        report, rules, enforced = (
            _with_arrow(engine, schema, max_samples),
            len(derive_rules(schema)),
            (),
        )
        kind = "arrow"
    return StoredReport(report, kind, rules, time.perf_counter() - start, enforced)


def _live_rows(engine: Engine, schema: ResourceSchema) -> int:
    with engine.connect() as conn:
        return int(
            conn.execute(
                text(f"SELECT count(*) FROM {q(current_name(schema.code))} WHERE NOT _deleted")
            ).scalar_one()
        )


def _enforced_unique(engine: Engine, schema: ResourceSchema) -> set[tuple[str, ...]]:
    """Column sets the database keeps unique: checking them again would find nothing."""
    insp = inspect(engine)
    table = current_name(schema.code)
    sets = {tuple(insp.get_pk_constraint(table)["constrained_columns"])}
    sets |= {tuple(u["column_names"]) for u in insp.get_unique_constraints(table)}
    for index in insp.get_indexes(table):
        names = index["column_names"]  # None for an expression: not a plain column set
        if index.get("unique") and all(names):
            sets.add(tuple(n for n in names if n))
    return sets


def _with_great_expectations(
    engine: Engine, schema: ResourceSchema, max_samples: int
) -> tuple[QualityReport, int, tuple[str, ...]]:
    from exchange.quality import gx_suite

    rules = derive_rules(schema)
    enforced = _enforced_unique(engine, schema)
    planned = gx_suite.plan(schema, rules, enforced)
    skipped = tuple(str(r.name) for r in rules if not any(p.rule is r for p in planned))
    runner = gx_suite.GxRunner(engine.url.render_as_string(hide_password=False))
    counts_only = {"result_format": "BASIC", "partial_unexpected_count": 0}
    results = runner.run(schema.code, planned, counts_only)
    by_rule: dict[str, int] = {}
    failing: list[gx_suite.Planned] = []
    blocking_total = 0
    for p, res in _paired(planned, results):
        count = _unexpected_count(res)
        if count == 0:
            continue
        rule = res.expectation_config.meta["rule"]
        by_rule[rule] = by_rule.get(rule, 0) + count
        blocking_total += count if p.severity == BLOCKING else 0
        failing.append(p)
    rows = _live_rows(engine, schema)
    findings = _samples(runner, schema, failing, max_samples) if failing else []
    # Rows failing several blocking rules are counted once per rule: an upper bound, exact
    # when each bad row breaks one rule (the usual case).
    failed_rows = min(rows, blocking_total)
    report = QualityReport(
        resource=schema.code,
        rows=rows,
        findings=tuple(findings),
        failures_by_rule=by_rule,
        failed_rows=failed_rows,
        passed=blocking_total == 0,
        max_samples=max_samples,
    )
    return report, len(rules), skipped


def _paired(planned: Sequence[Any], results: Sequence[Any]) -> list[tuple[Any, Any]]:
    """Each result with the plan entry it came from (GE returns them in its own order)."""
    by_index = {p.expectation.meta["plan"]: p for p in planned}
    pairs = [(by_index[r.expectation_config.meta["plan"]], r) for r in results]
    if len(pairs) != len(planned):
        raise StoredCheckError(f"{len(planned)} expectations planned, {len(pairs)} results")
    return pairs


def _unexpected_count(result: Any) -> int:
    if result.exception_info and result.exception_info.get("raised_exception"):
        raise StoredCheckError(
            f"{result.expectation_config.type} on {result.expectation_config.kwargs.get('column')} "
            f"failed to run: {result.exception_info.get('exception_message')}"
        )
    for info in (result.exception_info or {}).values():
        if isinstance(info, dict) and info.get("exception_traceback"):
            raise StoredCheckError(
                f"{result.expectation_config.type} failed to run: {info['exception_message']}"
            )
    body = result.result or {}
    count = body.get("unexpected_count", body.get("observed_value", 0))
    return int(count or 0)


def _samples(
    runner: Any, schema: ResourceSchema, failing: Sequence[Any], max_samples: int
) -> list[Finding]:
    """Masked keys of the first failing rows of each failing rule (queries stop early)."""
    pk = list(schema.primary_key)
    findings: list[Finding] = []
    by_rows = [p for p in failing if not p.sample_query]
    by_query = [p for p in failing if p.sample_query]
    fmt = {
        "result_format": "SUMMARY",
        "partial_unexpected_count": max_samples,
        "unexpected_index_column_names": pk,
    }
    results = runner.run(schema.code, by_rows, fmt) if by_rows else []
    results += runner.run(schema.code, by_query, {"result_format": "COMPLETE"}) if by_query else []
    for p, res in _paired([*by_rows, *by_query], results):
        body = res.result or {}
        rows = (
            body.get("partial_unexpected_index_list")
            or body.get("details", {}).get("unexpected_rows")
            or []
        )
        for row in list(rows)[:max_samples]:
            findings.append(_finding(schema, p, _as_dict(row, pk)))
    return findings


def _as_dict(row: Any, pk: list[str]) -> dict[str, Any]:
    if isinstance(row, dict):
        return row
    return dict(zip(pk, tuple(row), strict=False))


def _finding(schema: ResourceSchema, p: Any, row: dict[str, Any]) -> Finding:
    field = p.rule.field
    key = "|".join(
        masking.display(row[k], schema.field(k)) if row.get(k) is not None else ""
        for k in schema.primary_key
    )
    value = row.get(field) if field else None
    return Finding(
        rule=str(p.rule.name),
        field=field,
        row=None,
        key=key,
        value=None if value is None else masking.display(value, schema.field(field)),
        message=f"{field or ', '.join(schema.primary_key)} fails {p.rule.name} in the stored table",
        severity=p.severity,
    )


def _with_arrow(engine: Engine, schema: ResourceSchema, max_samples: int) -> QualityReport:
    current = tables_for(schema).current
    live = select(*(current.c[f] for f in schema.field_names)).where(current.c._deleted.is_(False))
    with engine.connect() as conn:
        rows = [r._asdict() for r in conn.execute(live)]
        table = pa.Table.from_pylist(rows, schema=schema.arrow_schema())
        return validate_table(
            table, schema, max_samples=max_samples, references=DatabaseReferences(conn)
        )
