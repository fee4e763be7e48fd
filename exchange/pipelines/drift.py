"""Drift: the database still has the shape the hub relies on.

A resource table that lost its primary key accepts duplicate rows and upserts stop meaning
anything; a lost NOT NULL or unique index lets rows in that the gate would refuse; a changed
column type silently converts values; an audit table without its append-only triggers can be
rewritten. Each is critical: nothing else notices until the data is already wrong.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Table, inspect
from sqlalchemy.engine import Dialect

from exchange.core.runtime import Runtime
from exchange.datastore.tables import tables_for
from exchange.pipelines import repository as repo
from exchange.pipelines.runs import CheckResult, Gauge, Issue, guard

# The append-only tables and the triggers that keep them so (migrations 0004 and 0009).
AUDIT_TABLES = ("audit_entry", "audit_seal", "audit_anchor", "audit_child_head")
PG_TRIGGERS = ("append_only", "no_truncate")
SQLITE_TRIGGERS = ("no_update", "no_delete")


def check_drift(rt: Runtime) -> CheckResult:
    result = CheckResult("drift")
    inspector = inspect(rt.engine)
    present = set(inspector.get_table_names())
    dialect = rt.engine.dialect
    checked = 0
    for code in sorted(rt.schemas):  # every resource the node has a table for
        tables = tables_for(rt.schemas[code])
        for table in (tables.current, tables.history):
            if table.name not in present:
                continue
            with guard(result, table.name):
                result.issues += _table_drift(code, table, inspector, dialect)
                checked += 1
    with guard(result, "audit triggers"):
        result.issues += _trigger_drift(rt, present)
    result.gauges.append(Gauge("tables_checked", float(checked)))
    return result


def _type_text(type_: Any, dialect: Dialect) -> str:
    return str(type_.compile(dialect=dialect)).upper().replace(" ", "")


def _table_drift(code: str, table: Table, inspector: Any, dialect: Dialect) -> list[Issue]:
    issues: list[Issue] = []
    subject = table.name

    def drift(kind: str, message: str, **detail: Any) -> None:
        issues.append(
            Issue(f"drift.{kind}", "critical", subject, message, {"resource": code, **detail})
        )

    expected_pk = [c.name for c in table.primary_key.columns]
    actual_pk = inspector.get_pk_constraint(table.name).get("constrained_columns") or []
    if expected_pk and actual_pk != expected_pk:
        drift(
            "primary_key",
            f"{subject}: primary key is ({', '.join(actual_pk) or 'none'}), "
            f"expected ({', '.join(expected_pk)})",
            expected=expected_pk,
            actual=actual_pk,
        )
    columns = {c["name"]: c for c in inspector.get_columns(table.name)}
    for col in table.columns:
        found = columns.get(col.name)
        if found is None:
            drift("column_missing", f"{subject}.{col.name} is missing", column=col.name)
            continue
        want, have = _type_text(col.type, dialect), _type_text(found["type"], dialect)
        if want != have:
            drift(
                "column_type",
                f"{subject}.{col.name} is {have}, expected {want}",
                column=col.name,
                expected=want,
                actual=have,
            )
        if not col.nullable and not col.primary_key and found.get("nullable", True):
            drift("not_null", f"{subject}.{col.name} lost its NOT NULL", column=col.name)
    unique = {
        tuple(ix["column_names"]) for ix in inspector.get_indexes(table.name) if ix.get("unique")
    }
    unique |= {tuple(u["column_names"]) for u in inspector.get_unique_constraints(table.name)}
    for ix in table.indexes:
        if ix.unique and tuple(c.name for c in ix.columns) not in unique:
            drift(
                "unique_index",
                f"{subject}: unique index {ix.name} is gone",
                index=ix.name,
            )
    return issues


def _trigger_drift(rt: Runtime, present: set[str]) -> list[Issue]:
    postgres = rt.engine.dialect.name == "postgresql"
    names = PG_TRIGGERS if postgres else SQLITE_TRIGGERS
    with rt.engine.connect() as conn:
        live = repo.enabled_triggers(conn)
    issues = []
    for table in AUDIT_TABLES:
        if table not in present:
            continue
        missing = [f"{table}_{n}" for n in names if f"{table}_{n}" not in live.get(table, set())]
        if missing:
            issues.append(
                Issue(
                    "drift.audit_trigger",
                    "critical",
                    table,
                    f"{table} is no longer append-only: trigger {', '.join(missing)} "
                    "dropped or disabled",
                    {"missing": missing},
                )
            )
    return issues
