"""The quality gate over population batches: what a sending department sees in its report."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

import pyarrow as pa
import pytest
from stdnum.cn import ric

from exchange.quality import QualityReport, validate_table
from exchange.testing.population_batch import population_schema, population_table

SCHEMA = population_schema()


def _people(n: int = 30, seed: int = 1) -> list[dict[str, Any]]:
    return population_table(n, seed=seed).to_pylist()


def _check(rows: list[dict[str, Any]], **kwargs: Any) -> QualityReport:
    report = validate_table(pa.Table.from_pylist(rows, SCHEMA.arrow_schema()), SCHEMA, **kwargs)
    json.dumps(report.to_dict())  # the report always travels as JSON
    return report


def _masked(id_number: str) -> str:
    return f"{id_number[:6]}********{id_number[-4:]}"


def _assert_no_id_in_clear(report: QualityReport, rows: list[dict[str, Any]]) -> None:
    text = json.dumps(report.to_dict(), ensure_ascii=False)
    assert not any(r["id_number"] and r["id_number"] in text for r in rows)


def test_a_clean_batch_passes_with_no_findings() -> None:
    report = validate_table(population_table(2_000, seed=5), SCHEMA)
    assert report.passed and report.pass_rate == 1.0
    assert report.findings == () and report.failures_by_rule == {} and report.failed_rows == 0


def test_one_wrong_check_character_gives_exactly_one_checksum_finding() -> None:
    rows = _people()
    good = rows[17]["id_number"]
    bad = good[:17] + ("1" if good[17] != "1" else "2")
    rows[17]["id_number"] = bad
    report = _check(rows)
    assert report.failures_by_rule == {"cn_ric.checksum": 1}
    (finding,) = report.findings
    assert (finding.rule, finding.field, finding.row) == ("cn_ric.checksum", "id_number", 17)
    assert finding.key == finding.value == _masked(bad)
    assert finding.severity == "blocking" and "checksum" in finding.message
    assert not report.passed and report.failed_rows == 1 and report.pass_rate == 29 / 30
    _assert_no_id_in_clear(report, rows)


def test_a_birth_date_that_disagrees_with_the_id_number_is_blocking() -> None:
    rows = _people()
    rows[3]["birth_date"] += timedelta(days=1)
    report = _check(rows)
    assert report.failures_by_rule == {"ric_birth_date": 1}
    (finding,) = report.findings
    assert (finding.row, finding.field, finding.value) == (
        3,
        "birth_date",
        str(rows[3]["birth_date"]),
    )
    assert finding.key == _masked(rows[3]["id_number"]) and not report.passed


@pytest.mark.parametrize(
    ("code", "says"), [("330199000000", "not a known"), ("3301", "not a 12-digit")]
)
def test_an_unknown_division_code_is_blocking(code: str, says: str) -> None:
    rows = _people()
    rows[4]["household_division"] = code
    report = _check(rows)
    assert report.failures_by_rule == {"division": 1}
    (finding,) = report.findings
    assert finding.row == 4 and finding.value == code and says in finding.message


def test_a_primary_key_repeated_within_the_batch_names_the_first_row() -> None:
    rows = _people()
    rows[9] = dict(rows[4])
    report = _check(rows)
    assert report.failures_by_rule == {"primary_key_unique": 1}
    (finding,) = report.findings
    assert finding.row == 9 and "repeats row 4" in finding.message
    assert finding.key == _masked(rows[4]["id_number"])


def test_a_value_outside_the_enum_is_blocking() -> None:
    rows = _people()
    rows[7]["status"] = "alive"
    report = _check(rows)
    assert report.failures_by_rule == {"enum": 1}
    (finding,) = report.findings
    assert finding.value == "alive" and "living, deceased, moved_out" in finding.message


def test_a_gender_contradicting_the_id_number_blocks_but_an_unstated_one_only_warns() -> None:
    rows = _people()
    rows[1]["gender"] = "1" if rows[1]["gender"] == "2" else "2"
    rows[2]["gender"] = "9"
    report = _check(rows)
    assert report.failures_by_rule == {"ric_gender": 2}
    severities = {f.row: f.severity for f in report.findings}
    assert severities == {1: "blocking", 2: "warning"}
    assert report.failed_rows == 1


def test_an_unknown_region_code_is_a_warning_and_the_batch_still_passes() -> None:
    rows = _people()
    body = "33019920220101001"  # no county has 330199
    rows[0] |= {"id_number": body + ric.calc_check_digit(body + "0"), "gender": "1"}
    rows[0]["birth_date"] = rows[0]["birth_date"].replace(year=2022, month=1, day=1)
    report = _check(rows)
    assert report.failures_by_rule == {"cn_ric.region": 1}
    assert report.passed and report.pass_rate == 1.0
    assert report.findings[0].severity == "warning" and "330199" in report.findings[0].message


def test_nulls_in_optional_fields_are_fine_but_an_empty_required_value_is_missing() -> None:
    rows = _people()
    for row in rows:
        row |= {"phone": None, "ethnicity": None, "address": None}
    rows[5]["name"] = ""
    report = _check(rows)
    assert report.failures_by_rule == {"required": 1}
    (finding,) = report.findings
    assert (finding.field, finding.row, finding.value) == ("name", 5, None)


def test_a_missing_required_column_fails_every_row_with_one_finding() -> None:
    table = population_table(30, seed=2).drop_columns(["status", "phone"])
    report = validate_table(table, SCHEMA)
    assert report.failures_by_rule == {"required": 30}  # phone is optional: no finding
    (finding,) = report.findings
    assert (finding.field, finding.row) == ("status", None) and "missing" in finding.message
    assert report.failed_rows == 30 and report.pass_rate == 0.0


def test_dates_sent_as_text_are_read_but_unreadable_ones_fail_the_column() -> None:
    table = population_table(30, seed=3)
    as_text = table.set_column(3, "birth_date", table["birth_date"].cast(pa.string()))
    assert validate_table(as_text, SCHEMA).passed
    garbled = as_text.to_pylist()
    garbled[6]["birth_date"] = "1990-02-30"
    report = validate_table(pa.Table.from_pylist(garbled), SCHEMA)
    assert report.failures_by_rule == {"type": 30}
    assert "1990-02-30" not in report.findings[0].message


def test_findings_are_sampled_per_rule_but_counted_exactly() -> None:
    rows = _people(200)
    for row in rows[50:150]:
        row["status"] = "unknown"
    report = _check(rows, max_samples=5)
    assert report.failures_by_rule == {"enum": 100} and report.failed_rows == 100
    assert [f.row for f in report.findings] == [50, 51, 52, 53, 54]


def _replaced(table: pa.Table, row: int, **changes: Any) -> pa.Table:
    """`table` with one row changed, without turning the other rows into Python objects."""
    changed = table.slice(row, 1).to_pylist()[0] | changes
    middle = pa.Table.from_pylist([changed], table.schema)
    return pa.concat_tables([table.slice(0, row), middle, table.slice(row + 1)])


def test_a_million_row_batch_is_checked_with_exact_counts() -> None:
    batch = population_table(1_000_000, seed=11)
    id_number = batch["id_number"][123_456].as_py()
    bad = id_number[:17] + ("0" if id_number[17] != "0" else "1")
    batch = _replaced(batch, 123_456, id_number=bad)
    batch = _replaced(batch, 999_998, status="gone")
    report = validate_table(batch, SCHEMA)
    assert report.rows == 1_000_000
    assert report.failures_by_rule == {"cn_ric.checksum": 1, "enum": 1}
    assert {(f.rule, f.row) for f in report.findings} == {
        ("cn_ric.checksum", 123_456),
        ("enum", 999_998),
    }
    assert report.failed_rows == 2 and report.pass_rate == pytest.approx(1 - 2e-6)


def test_an_empty_batch_passes() -> None:
    report = validate_table(SCHEMA.arrow_schema().empty_table(), SCHEMA)
    assert report.passed and report.rows == 0 and report.findings == ()
