"""A standards finding names what a person needs to act: keys, fields, and for a broken
reference the resource it points into and the values missing there."""

from __future__ import annotations

from exchange.pipelines import standards
from exchange.quality.report import BLOCKING, Finding


def _missing(row: int, key: str, value: str) -> Finding:
    return Finding("reference", "division", row, key, value, "not in geo_division", BLOCKING)


def test_a_broken_reference_names_its_target_the_missing_values_and_composite_keys() -> None:
    shown = tuple(_missing(i, f"GDP|330199{i:06d}|2020", f"330199{i:06d}") for i in range(25))
    result = standards._result(
        "macro_indicator",
        {"reference": 25},
        shown,
        100,
        {"division": ["geo_division.code"]},
    )
    (issue,) = result.issues
    assert (issue.kind, issue.severity, issue.subject) == (
        "rule.reference",
        "critical",
        "macro_indicator",
    )
    assert issue.detail["targets"] == ["geo_division.code"]
    assert issue.detail["keys"][:2] == ["GDP|330199000000|2020", "GDP|330199000001|2020"]
    assert len(issue.detail["keys"]) == len(issue.detail["missing"]) == standards.SAMPLE_KEYS
    assert issue.detail["missing"][0] == "330199000000"
    assert issue.detail["fields"] == ["division"]
