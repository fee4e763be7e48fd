"""The quality gate over the other resources' batches: credit codes, ranges, composite keys,
references and hashes."""

from __future__ import annotations

from typing import Any

import pyarrow as pa
from stdnum.cn import uscc

from exchange.core.resource_schema import SCHEMAS_DIR, ResourceSchema, load_schema
from exchange.quality import QualityReport, validate_table
from exchange.testing.population_batch import population_table


def _schema(code: str) -> ResourceSchema:
    return load_schema(SCHEMAS_DIR / f"{code}.json")


def _check(code: str, rows: list[dict[str, Any]], **kwargs: Any) -> QualityReport:
    schema = _schema(code)
    return validate_table(pa.Table.from_pylist(rows, schema.arrow_schema()), schema, **kwargs)


def _uscc(body: str) -> str:
    return body + uscc.calc_check_digit(body)


def _firms(n: int = 3) -> list[dict[str, Any]]:
    return [
        {
            "uscc": _uscc(f"91330106MA27XYW{i:02d}"),
            "name": f"杭州第{i}科技有限公司",
            "entity_type": "company",
            "status": "active",
            "division": "330106000000",
            "registered_capital": 1_000_000.0,
        }
        for i in range(n)
    ]


def test_legal_persons_with_valid_codes_pass() -> None:
    assert _check("legal_person", _firms()).passed


def test_a_credit_code_with_a_wrong_check_character_is_blocking() -> None:
    firms = _firms()
    code = firms[2]["uscc"]
    firms[2]["uscc"] = code[:17] + ("0" if code[17] != "0" else "1")
    report = _check("legal_person", firms)
    assert report.failures_by_rule == {"cn_uscc.checksum": 1}
    assert report.findings[0].row == 2 and "GB 32100" in report.findings[0].message


def test_a_negative_registered_capital_is_below_the_minimum() -> None:
    firms = _firms()
    firms[0]["registered_capital"] = -5.0
    report = _check("legal_person", firms)
    assert report.failures_by_rule == {"minimum": 1}
    assert "at least 0" in report.findings[0].message


class _Population:
    def __init__(self, known: set[str]) -> None:
        self.known = known
        self.asked: list[list[str]] = []

    def missing(self, resource: str, field: str, values: pa.Array) -> pa.Array:
        if (resource, field) == ("geo_division", "code"):
            return pa.array([], values.type)  # every division is known in this scene
        assert (resource, field) == ("population", "id_number")
        self.asked.append(values.to_pylist())
        return pa.array([v for v in values.to_pylist() if v not in self.known], pa.string())


def test_a_legal_representative_unknown_to_the_population_registry_is_blocking() -> None:
    people = population_table(2, seed=4)["id_number"].to_pylist()
    firms = _firms()
    for firm, representative in zip(firms, [people[0], people[1], people[0]], strict=True):
        firm["legal_rep_id_number"] = representative
    assert _check("legal_person", firms).passed  # no checker given: the rule is skipped
    checker = _Population(known={people[0]})
    report = _check("legal_person", firms, references=checker)
    assert report.failures_by_rule == {"reference": 1}
    (finding,) = report.findings
    assert finding.row == 1 and finding.value == f"{people[1][:6]}********{people[1][-4:]}"
    assert sorted(checker.asked[0]) == sorted(people)  # asked once per distinct value


def test_a_repeated_composite_key_names_all_its_parts() -> None:
    row: dict[str, Any] = {"indicator": "GDP", "division": "330100000000", "period": "2024"}
    row["unit"] = "亿元"
    rows = [row | {"value": 1.0}, row | {"period": "2024Q1", "value": 2.0}, row | {"value": 3.0}]
    report = _check("macro_indicator", rows)
    assert report.failures_by_rule == {"primary_key_unique": 1}
    (finding,) = report.findings
    assert (finding.field, finding.row, finding.key) == (None, 2, "GDP|330100000000|2024")
    assert "(indicator, division, period) repeats row 0" in finding.message


def test_a_period_not_matching_the_pattern_is_blocking() -> None:
    row = {"indicator": "CPI", "division": "330100000000", "value": 1.0, "unit": "%"}
    rows = [row | {"period": "2024-13"}, row | {"period": "2024-12"}, row | {"period": "x2024"}]
    report = _check("macro_indicator", rows)
    assert report.failures_by_rule == {"pattern": 2}
    assert [f.row for f in report.findings] == [0, 2]


def test_a_longitude_outside_china_is_above_the_maximum() -> None:
    place = {"kind": "park", "name": "西溪湿地", "division": "330106000000", "latitude": 30.27}
    rows = [place | {"address_id": "A1", "longitude": 120.06}]
    rows.append(place | {"address_id": "A2", "longitude": 200.0})
    report = _check("geo_address", rows)
    assert report.failures_by_rule == {"maximum": 1} and report.findings[0].row == 1


def test_a_file_hash_in_upper_case_is_no_sha256() -> None:
    material = {"material_type": "id_card", "holder_kind": "natural_person", "title": "身份证"}
    digest = "ab" * 32
    rows = [
        material | {"material_id": "M1", "holder_code": "x", "file_sha256": digest},
        material | {"material_id": "M2", "holder_code": "y", "file_sha256": digest.upper()},
    ]
    report = _check("material", rows)
    assert report.failures_by_rule == {"sha256": 1}  # its identical pattern is not repeated
    assert report.findings[0].row == 1
