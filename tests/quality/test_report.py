"""The report as it travels: JSON for the sender, the quarantine and the operators."""

from __future__ import annotations

import json

from exchange.quality.report import Finding, QualityReport


def _finding(row: int, severity: str = "blocking") -> Finding:
    return Finding(
        rule="enum",
        field="status",
        row=row,
        key=f"330106********000{row}",
        value="alive",
        message="status must be one of: living, deceased, moved_out",
        severity=severity,  # type: ignore[arg-type]
    )


def test_a_report_serialises_to_json_with_its_verdict_and_findings() -> None:
    report = QualityReport(
        resource="population",
        rows=4,
        findings=(_finding(1), _finding(3)),
        failures_by_rule={"enum": 2},
        failed_rows=2,
        passed=False,
        max_samples=20,
    )
    data = json.loads(json.dumps(report.to_dict()))
    assert data["passed"] is False and data["pass_rate"] == 0.5 and data["failed_rows"] == 2
    assert data["failures_by_rule"] == {"enum": 2}
    assert data["findings"][1] == {
        "rule": "enum",
        "field": "status",
        "row": 3,
        "key": "330106********0003",
        "value": "alive",
        "message": "status must be one of: living, deceased, moved_out",
        "severity": "blocking",
    }


def test_an_empty_batch_has_a_pass_rate_of_one() -> None:
    report = QualityReport("population", 0, (), {}, 0, passed=True)
    assert report.pass_rate == 1.0
