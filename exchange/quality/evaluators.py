"""Each batch-local rule over whole Arrow columns: one function per rule name.

Every function returns the rows that fail (numpy masks) and how to explain one of them;
messages name the field and the rule, never the value (the finding carries it, masked).
"""

from __future__ import annotations

from collections.abc import Callable
from functools import cache

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from exchange.core import codelists, divisions
from exchange.quality import duplicates, identifiers
from exchange.quality.batch import Batch, Failure
from exchange.quality.report import BLOCKING, WARNING
from exchange.quality.rules import Rule, RuleName

Evaluator = Callable[[Rule, Batch], list[Failure]]


def _fail(rule: Rule, rows: np.ndarray, message: str | Callable[[int], str]) -> list[Failure]:
    explain = message if callable(message) else (lambda _row: message)
    return [Failure(rule.name, rule.field, rule.severity, rows, explain)]


def _field(rule: Rule) -> str:
    assert rule.field is not None, f"{rule.name} is a single-field rule"
    return rule.field


def required(rule: Rule, batch: Batch) -> list[Failure]:
    field = _field(rule)
    message = f"{field} is required"
    return [
        Failure(rule.name, field, rule.severity, ~batch.present(field), lambda _row: message, False)
    ]


def enum(rule: Rule, batch: Batch) -> list[Failure]:
    field, column = _field(rule), batch.column(_field(rule))
    allowed = pa.array(list(rule.params["values"])).cast(column.type)
    listed = ", ".join(str(v) for v in rule.params["values"])
    rows = batch.failing(field, pc.is_in(column, value_set=allowed))
    return _fail(rule, rows, f"{field} must be one of: {listed}")


def pattern(rule: Rule, batch: Batch) -> list[Failure]:
    field, column = _field(rule), batch.column(_field(rule))
    text = column if pa.types.is_string(column.type) else column.cast(pa.string())
    # Table Schema patterns match the whole value (frictionless compiles "^(...)$" as well).
    matches = pc.match_substring_regex(text, f"^(?:{rule.params['pattern']})$")
    message = f"{field} must match {rule.params['pattern']}"
    return _fail(rule, batch.failing(field, matches), message)


def _bound(column: pa.Array, value: object) -> pa.Scalar:
    scalar = pa.scalar(value)
    if isinstance(value, str) and pa.types.is_temporal(column.type):
        return scalar.cast(column.type)
    return scalar


def minimum(rule: Rule, batch: Batch) -> list[Failure]:
    field, column = _field(rule), batch.column(_field(rule))
    ok = pc.greater_equal(column, _bound(column, rule.params["value"]))
    return _fail(rule, batch.failing(field, ok), f"{field} must be at least {rule.params['value']}")


def maximum(rule: Rule, batch: Batch) -> list[Failure]:
    field, column = _field(rule), batch.column(_field(rule))
    ok = pc.less_equal(column, _bound(column, rule.params["value"]))
    return _fail(rule, batch.failing(field, ok), f"{field} must be at most {rule.params['value']}")


def _repeats(batch: Batch, fields: tuple[str, ...]) -> tuple[np.ndarray, np.ndarray]:
    present = np.logical_and.reduce([batch.present(f) for f in fields])
    return duplicates.repeats([batch.column(f) for f in fields], present)


def unique(rule: Rule, batch: Batch) -> list[Failure]:
    field = _field(rule)
    repeats, first = _repeats(batch, (field,))
    return _fail(rule, repeats, lambda row: f"{field} repeats row {first[row]} (must be unique)")


def primary_key_unique(rule: Rule, batch: Batch) -> list[Failure]:
    fields = tuple(rule.params["fields"])
    repeats, first = _repeats(batch, fields)
    names = ", ".join(fields)
    return [
        Failure(
            rule.name,
            rule.field,
            rule.severity,
            repeats,
            lambda row: f"primary key ({names}) repeats row {first[row]}",
            show_value=rule.field is not None,
        )
    ]


@cache
def _codes_of(list_name: str) -> pa.Array:
    return pa.array(sorted(codelists.accepted(list_name)), pa.string())


def code_list(rule: Rule, batch: Batch) -> list[Failure]:
    field, column = _field(rule), batch.column(_field(rule))
    name = rule.params["list"]
    listed = pc.is_in(column.cast(pa.string()), value_set=_codes_of(name))
    return _fail(rule, batch.failing(field, listed), f"{field} is not a code of {name}")


def _classified(
    batch: Batch,
    field: str,
    rule: RuleName,
    classify: Callable[[str], tuple[RuleName, str] | None],
    generic: str,
) -> Callable[[int], str]:
    """Messages from stdnum (the authority) for the rows shown; `generic` if it disagrees."""

    def explain(row: int) -> str:
        verdict = classify(str(batch.value(field, row)))
        if verdict is not None and verdict[0] == rule:
            return f"{field}: {verdict[1]}"
        return f"{field}: {generic}"

    return explain


def cn_ric(rule: Rule, batch: Batch) -> list[Failure]:
    field = _field(rule)
    checks = batch.ric(field)
    rows, generic = {
        RuleName.cn_ric_format: (checks.format_bad, "not a well-formed ID number (GB 11643)"),
        RuleName.cn_ric_checksum: (checks.checksum_bad, "wrong check character"),
        RuleName.cn_ric_region: (checks.region_bad, "unknown region code"),
    }[rule.name]
    explain = _classified(batch, field, rule.name, identifiers.classify_ric, generic)
    return _fail(rule, rows, explain)


def cn_uscc(rule: Rule, batch: Batch) -> list[Failure]:
    field = _field(rule)
    checks = batch.uscc(field)
    rows, generic = {
        RuleName.cn_uscc_format: (checks.format_bad, "not a well-formed credit code (GB 32100)"),
        RuleName.cn_uscc_checksum: (checks.checksum_bad, "wrong check character"),
    }[rule.name]
    explain = _classified(batch, field, rule.name, identifiers.classify_uscc, generic)
    return _fail(rule, rows, explain)


def ric_birth_date(rule: Rule, batch: Batch) -> list[Failure]:
    field, id_field = _field(rule), rule.params["id_field"]
    if not batch.readable(id_field):
        return []  # the ID column's own findings say why
    checks = batch.ric(id_field)
    days = batch.column(field).cast(pa.int32()).fill_null(0).to_numpy(zero_copy_only=False)
    rows = batch.present(field) & checks.date_ok & (days != checks.birth_days)
    return _fail(rule, rows, f"{field} differs from the birth date encoded in {id_field}")


def ric_gender(rule: Rule, batch: Batch) -> list[Failure]:
    field, id_field = _field(rule), rule.params["id_field"]
    if not batch.readable(id_field):
        return []
    column, checks = batch.column(field), batch.ric(id_field)
    comparable = batch.present(field) & checks.shaped
    male, female = (_is(column, code) for code in ("1", "2"))
    odd = checks.odd_sequence
    contradicts = comparable & ((male & ~odd) | (female & odd))
    unstated = np.zeros(batch.rows, dtype=bool)
    for code in rule.params["warning_codes"]:
        unstated |= comparable & _is(column, code)
    labels = codelists.get("GB/T 2261.1")

    def person(row: int) -> str:
        return "a man's (odd 17th digit)" if odd[row] else "a woman's (even 17th digit)"

    def contradiction(row: int) -> str:
        code = str(batch.value(field, row))
        return f"{field} {code} ({labels[code]}) contradicts {id_field}, {person(row)} number"

    def unchecked(row: int) -> str:
        code = str(batch.value(field, row))
        return f"{field} {code} ({labels.get(code, '')}) cannot be checked against {id_field}"

    return [
        Failure(rule.name, field, BLOCKING, contradicts, contradiction),
        Failure(rule.name, field, WARNING, unstated, unchecked),
    ]


def _is(column: pa.Array, code: str) -> np.ndarray:
    equal = pc.equal(column.cast(pa.string()), code)
    return equal.fill_null(False).to_numpy(zero_copy_only=False)


@cache
def _division_codes() -> pa.Array:
    return pa.array(sorted(divisions.table()), pa.string())


def division(rule: Rule, batch: Batch) -> list[Failure]:
    field = _field(rule)
    known = pc.is_in(batch.column(field), value_set=_division_codes())

    def explain(row: int) -> str:
        code = str(batch.value(field, row))
        if len(code) != 12 or not code.isdigit():
            return f"{field} is not a 12-digit administrative division code (GB/T 2260)"
        return f"{field} is not a known administrative division (GB/T 2260)"

    return _fail(rule, batch.failing(field, known), explain)


def sha256(rule: Rule, batch: Batch) -> list[Failure]:
    field = _field(rule)
    ok = pc.match_substring_regex(batch.column(field), rule.params["pattern"])
    return _fail(rule, batch.failing(field, ok), f"{field} must be 64 lower-case hex characters")


EVALUATORS: dict[RuleName, Evaluator] = {
    RuleName.required: required,
    RuleName.enum: enum,
    RuleName.pattern: pattern,
    RuleName.minimum: minimum,
    RuleName.maximum: maximum,
    RuleName.unique: unique,
    RuleName.primary_key_unique: primary_key_unique,
    RuleName.code_list: code_list,
    RuleName.cn_ric_format: cn_ric,
    RuleName.cn_ric_checksum: cn_ric,
    RuleName.cn_ric_region: cn_ric,
    RuleName.cn_uscc_format: cn_uscc,
    RuleName.cn_uscc_checksum: cn_uscc,
    RuleName.ric_birth_date: ric_birth_date,
    RuleName.ric_gender: ric_gender,
    RuleName.division: division,
    RuleName.sha256: sha256,
}
