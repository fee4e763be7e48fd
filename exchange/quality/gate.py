"""The quality gate at intake: the standards rules, applied chunk by chunk as a batch streams in."""

from __future__ import annotations

from typing import Any

import pyarrow as pa

from exchange.core.resource_schema import ResourceSchema
from exchange.core.row_ops import OP_COLUMN, OP_MESSAGE, OP_RULE, bad_ops
from exchange.quality import ReferenceChecker, validate_table

MAX_SAMPLES = 20


class Accumulator:
    """Sums the per-chunk reports into one report for the whole batch, its rows numbered from
    `first_row` (the number the sender's file gives its first row)."""

    def __init__(
        self,
        schema: ResourceSchema,
        references: ReferenceChecker | None = None,
        *,
        first_row: int = 0,
    ) -> None:
        self.schema = schema
        self.references = references
        self.first_row = first_row
        self.rows = 0
        self.failures: dict[str, int] = {}
        self.samples: list[dict[str, Any]] = []
        self.failed_rows = 0
        self.blocking = False

    def check(self, rb: pa.RecordBatch) -> None:
        table = pa.Table.from_batches([rb])
        if OP_COLUMN in table.column_names:
            self._check_ops(table.column(OP_COLUMN))
            table = table.drop_columns([OP_COLUMN])
        report = validate_table(
            table, self.schema, max_samples=MAX_SAMPLES, references=self.references
        )
        for rule, count in report.failures_by_rule.items():
            self.failures[rule] = self.failures.get(rule, 0) + count
        per_rule: dict[str, int] = {}
        for s in self.samples:
            per_rule[s["rule"]] = per_rule.get(s["rule"], 0) + 1
        for f in report.findings:
            if per_rule.get(f.rule, 0) >= MAX_SAMPLES:
                continue
            per_rule[f.rule] = per_rule.get(f.rule, 0) + 1
            sample = f.to_dict()
            if sample.get("row") is not None:
                sample["row"] += self.first_row + self.rows
            self.samples.append(sample)
            self.blocking = self.blocking or f.severity == "blocking"
        self.failed_rows += report.failed_rows
        self.rows += rb.num_rows

    def _check_ops(self, ops: pa.ChunkedArray) -> None:
        bad = bad_ops(ops)
        for i in bad[:MAX_SAMPLES]:
            self.samples.append(
                {
                    "rule": OP_RULE,
                    "field": OP_COLUMN,
                    "row": self.first_row + self.rows + i,
                    "message": OP_MESSAGE,
                    "severity": "blocking",
                }
            )
        if bad:
            self.failures[OP_RULE] = self.failures.get(OP_RULE, 0) + len(bad)
            self.blocking = True

    def duplicate_keys(self, keys: list[tuple[object, ...]], total: int) -> None:
        self.failures["primary_key_unique"] = total
        for key in keys[:MAX_SAMPLES]:
            self.samples.append(
                {
                    "rule": "primary_key_unique",
                    "field": ",".join(self.schema.primary_key),
                    "key": "|".join(str(v) for v in key),
                    "message": "primary key occurs more than once in the batch",
                    "severity": "blocking",
                }
            )
        self.blocking = True

    def rule_counts(self) -> dict[str, int]:
        return dict(self.failures)

    def to_dict(self) -> dict[str, Any]:
        passed_rows = self.rows - self.failed_rows
        return {
            "resource": self.schema.code,
            "passed": not self.blocking,
            "rows": self.rows,
            "failed_rows": self.failed_rows,
            "pass_rate": round(passed_rows / self.rows, 6) if self.rows else 1.0,
            "failures_by_rule": self.failures,
            "findings": self.samples,
        }
