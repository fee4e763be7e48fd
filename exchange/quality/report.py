"""What the quality gate tells the sender, the quarantine and the operators about one batch.

Findings are logged and shown to people, so they never carry a personal value in clear: the
gate masks values (and keys) by the field's sensitivity before a `Finding` is built.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any, Literal

Severity = Literal["blocking", "warning"]

BLOCKING: Severity = "blocking"
WARNING: Severity = "warning"


@dataclass(frozen=True, slots=True)
class Finding:
    rule: str
    field: str | None
    # The row's number: from the sender's first row number at intake (`X-Batch-First-Row`),
    # from 0 in a report over one table; None when the whole column is at fault.
    row: int | None
    key: str | None  # the row's primary key value(s), masked, joined by "|"
    value: str | None  # masked and truncated
    message: str
    severity: Severity

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class QualityReport:
    resource: str
    rows: int
    findings: tuple[Finding, ...]  # a sample: at most `max_samples` per rule
    failures_by_rule: dict[str, int]  # exact (row, field) failure counts, warnings included
    failed_rows: int  # rows with at least one blocking finding
    passed: bool  # no blocking finding, including column-level ones on an empty batch
    max_samples: int = 20

    @property
    def pass_rate(self) -> float:
        return 1.0 if self.rows == 0 else (self.rows - self.failed_rows) / self.rows

    def to_dict(self) -> dict[str, Any]:
        return {
            "resource": self.resource,
            "rows": self.rows,
            "passed": self.passed,
            "pass_rate": self.pass_rate,
            "failed_rows": self.failed_rows,
            "failures_by_rule": dict(self.failures_by_rule),
            "max_samples": self.max_samples,
            "findings": [f.to_dict() for f in self.findings],
        }
