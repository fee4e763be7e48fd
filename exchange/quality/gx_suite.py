"""A resource's rules as a Great Expectations suite over its stored table.

Imported only when a stored table is checked (GE takes seconds to import). Stock expectations
are used where one says exactly what the rule says; the checksums and the comparisons with the
ID number are one custom map expectation taking a SQL condition, so that every column rule,
stock or custom, lands in the one aggregate query GE bundles per table (one scan, not one per
rule). References are anti-join queries (`UnexpectedRowsExpectation`).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

logging.getLogger("great_expectations._docs_decorators").setLevel(logging.WARNING)

import great_expectations as gx  # noqa: E402
import great_expectations.expectations as gxe  # noqa: E402
import sqlalchemy as sa  # noqa: E402
from great_expectations.data_context.types.base import ProgressBarsConfig  # noqa: E402
from great_expectations.execution_engine import SqlAlchemyExecutionEngine  # noqa: E402
from great_expectations.expectations.expectation import ColumnMapExpectation  # noqa: E402
from great_expectations.expectations.metrics.map_metric_provider import (  # noqa: E402
    ColumnMapMetricProvider,
    column_condition_partial,
)
from great_expectations.expectations.row_conditions import Column  # noqa: E402

from exchange.core import codelists, divisions  # noqa: E402
from exchange.core.resource_schema import ResourceSchema  # noqa: E402
from exchange.datastore.tables import current_name  # noqa: E402
from exchange.quality import sql_checks as sqlc  # noqa: E402
from exchange.quality.rules import Rule, RuleName  # noqa: E402

# Tombstones keep the values they had when deleted; only live rows are data.
LIVE = Column("_deleted") == False  # noqa: E712 (GE builds the SQL condition from this)


class ColumnValuesSatisfySql(ColumnMapMetricProvider):
    condition_metric_name = "column_values.hub_sql"
    condition_value_keys = ("ok_sql",)

    @column_condition_partial(engine=SqlAlchemyExecutionEngine)
    def _sqlalchemy(cls, column: Any, ok_sql: str, **_kwargs: Any) -> Any:
        # literal_column, not text(): GE negates the condition to count unexpected rows.
        return sa.literal_column(f"({ok_sql})", type_=sa.Boolean())


class ExpectColumnValuesToSatisfySql(ColumnMapExpectation):
    """Each non-null value of `column` makes `ok_sql` true (a condition over the row)."""

    map_metric = "column_values.hub_sql"
    success_keys: ClassVar[tuple[str, ...]] = ("ok_sql", "mostly")
    ok_sql: str


@dataclass(frozen=True)
class Planned:
    """One expectation and the gate rule it stands for (several may share a rule name)."""

    rule: Rule
    severity: str
    expectation: Any
    sample_query: bool = False  # an UnexpectedRowsExpectation: samples come back as rows


def plan(
    schema: ResourceSchema, rules: Sequence[Rule], enforced: set[tuple[str, ...]]
) -> list[Planned]:
    """Expectations for `rules`; uniqueness the database already enforces is not re-checked."""
    out: list[Planned] = []
    for rule in rules:
        for severity, exp, by_query in _expectations(schema, rule, enforced):
            # GE hands results back in its own order; the index finds each one's plan again.
            exp.meta = {"rule": str(rule.name), "severity": severity, "plan": len(out)}
            out.append(Planned(rule, severity, exp, by_query))
    return out


Expectation = tuple[str, Any, bool]  # severity, the GE expectation, whether it is a row query


def _expectations(
    schema: ResourceSchema, rule: Rule, enforced: set[tuple[str, ...]]
) -> list[Expectation]:
    f, p, sev = rule.field or "", rule.params, rule.severity
    if rule.name in (RuleName.unique, RuleName.primary_key_unique):
        return _unique(tuple(p.get("fields") or (f,)), sev, enforced)
    found = _value_rule(rule, f, p, sev)
    if found is None:
        found = _sql_rule(schema, rule, f, p, sev)
    if found is None:
        raise ValueError(f"no expectation implements rule {rule.name}")
    return found


def _value_rule(rule: Rule, f: str, p: Mapping[str, Any], sev: str) -> list[Expectation] | None:
    """Rules GE states over one column's values."""
    match rule.name:
        case RuleName.required:
            return [(sev, gxe.ExpectColumnValuesToNotBeNull(column=f, row_condition=LIVE), False)]
        case RuleName.enum:
            return [_in_set(f, sev, p["values"])]
        case RuleName.pattern | RuleName.cn_ric_format | RuleName.cn_uscc_format | RuleName.sha256:
            return [_regex(f, sev, p["pattern"])]
        case RuleName.minimum:
            exp = gxe.ExpectColumnValuesToBeBetween(
                column=f, min_value=p["value"], row_condition=LIVE
            )
            return [(sev, exp, False)]
        case RuleName.maximum:
            exp = gxe.ExpectColumnValuesToBeBetween(
                column=f, max_value=p["value"], row_condition=LIVE
            )
            return [(sev, exp, False)]
        case RuleName.code_list:
            return [_in_set(f, sev, sorted(codelists.accepted(p["list"])))]
        case RuleName.division:
            return [_in_set(f, sev, sorted(divisions.table()))]
    return None


def _sql_rule(
    schema: ResourceSchema, rule: Rule, f: str, p: Mapping[str, Any], sev: str
) -> list[Expectation] | None:
    """Rules compiled to SQL (identifier checksums, cross-field and cross-table checks)."""
    match rule.name:
        case RuleName.cn_ric_checksum:
            return [_sql(f, sqlc.ric_checksum_ok(f), sev)]
        case RuleName.cn_ric_region:
            return [_sql(f, sqlc.ric_region_ok(f), sev)]
        case RuleName.cn_uscc_checksum:
            return [_sql(f, sqlc.uscc_checksum_ok(f), sev)]
        case RuleName.ric_birth_date:
            return [_sql(f, sqlc.ric_birth_date_ok(f, p["id_field"]), sev)]
        case RuleName.ric_gender:
            return [
                _sql(f, sqlc.ric_gender_ok(f, p["id_field"]), "blocking"),
                _sql(f, sqlc.ric_gender_stated(f, p["id_field"], p["warning_codes"]), "warning"),
            ]
        case RuleName.reference:
            query = sqlc.reference_missing_query(
                schema.primary_key, f, current_name(p["resource"]), p["field"], p.get("when")
            )
            return [(sev, gxe.UnexpectedRowsExpectation(unexpected_rows_query=query), True)]
    return None


def _unique(fields: tuple[str, ...], sev: str, enforced: set[tuple[str, ...]]) -> list[Expectation]:
    if fields in enforced:
        return []
    exp: gx.expectations.Expectation
    if len(fields) == 1:
        exp = gxe.ExpectColumnValuesToBeUnique(column=fields[0], row_condition=LIVE)
    else:
        exp = gxe.ExpectCompoundColumnsToBeUnique(column_list=list(fields), row_condition=LIVE)
    return [(sev, exp, False)]


def _sql(f: str, ok: str, severity: str) -> Expectation:
    return (
        severity,
        ExpectColumnValuesToSatisfySql(column=f, ok_sql=ok, row_condition=LIVE),
        False,
    )


def _regex(f: str, sev: str, pattern: str) -> Expectation:
    anchored = f"^(?:{pattern.removeprefix('^').removesuffix('$')})$"
    return (
        sev,
        gxe.ExpectColumnValuesToMatchRegex(column=f, regex=anchored, row_condition=LIVE),
        False,
    )


def _in_set(f: str, sev: str, values: Sequence[object]) -> Expectation:
    return (
        sev,
        gxe.ExpectColumnValuesToBeInSet(column=f, value_set=list(values), row_condition=LIVE),
        False,
    )


class GxRunner:
    """One ephemeral GE context with the node's database as a SQL datasource."""

    def __init__(self, url: str) -> None:
        self.context = gx.get_context(mode="ephemeral")
        self.context.variables.progress_bars = ProgressBarsConfig(
            globally=False, metric_calculations=False
        )
        self.source = self.context.data_sources.add_postgres("hub", connection_string=url)

    def run(
        self, resource: str, planned: Sequence[Planned], result_format: dict[str, Any]
    ) -> list[Any]:
        name = current_name(resource)
        try:
            asset = self.source.get_asset(name)
        except LookupError:
            asset = self.source.add_table_asset(name, table_name=name)
        batch_def = next(
            iter(asset.batch_definitions), None
        ) or asset.add_batch_definition_whole_table("all")
        suite = gx.ExpectationSuite(name=f"{resource}-{len(planned)}-{id(planned)}")
        for p in planned:
            suite.add_expectation(p.expectation)
        return list(batch_def.get_batch().validate(suite, result_format=result_format).results)
