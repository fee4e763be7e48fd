"""One batch as the rules see it: its columns read as the schema's types, and what is present.

A rule gets whole columns (Arrow arrays and numpy masks, never Python rows) and returns a
`Failure`: a boolean mask over the rows plus how to explain one of them. Only the few rows
shown as findings are ever turned into Python values, masked on the way out.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from exchange.core import masking
from exchange.core.conformance import missing_column
from exchange.core.resource_schema import FieldSpec, ResourceSchema
from exchange.quality import identifiers
from exchange.quality.report import BLOCKING, Severity
from exchange.quality.rules import RuleName


@dataclass(frozen=True)
class Failure:
    rule: RuleName
    field: str | None
    severity: Severity
    rows: np.ndarray | None  # True where the row fails; None: the whole column fails
    explain: Callable[[int], str]  # the message for a failing row (-1 for a column)
    show_value: bool = True  # False when there is no one value to show (missing, composite)


def column_failure(rule: RuleName, field: str, message: str) -> Failure:
    return Failure(rule, field, BLOCKING, None, lambda _row: message)


class Batch:
    def __init__(self, table: pa.Table, schema: ResourceSchema) -> None:
        self.schema = schema
        self.rows = table.num_rows
        self.columns: dict[str, pa.Array] = {}
        self.structural: list[Failure] = []
        self._present: dict[str, np.ndarray] = {}
        self._ric: dict[str, identifiers.RicChecks] = {}
        self._uscc: dict[str, identifiers.UsccChecks] = {}
        for spec in schema.fields:
            self._read(table, spec)

    def _read(self, table: pa.Table, spec: FieldSpec) -> None:
        if spec.name not in table.column_names:
            # An absent optional column is all nulls: nothing to check and nothing to report.
            if spec.required:
                message = missing_column(spec.name)
                self.structural.append(column_failure(RuleName.required, spec.name, message))
            return
        column = table.column(spec.name).combine_chunks()
        if column.type != spec.arrow_type:
            try:
                column = column.cast(spec.arrow_type)
            except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
                # Arrow's error text quotes the offending value, which may be personal.
                message = (
                    f"column {spec.name} is {column.type} and not every value reads as "
                    f"{spec.type} ({spec.arrow_type})"
                )
                self.structural.append(column_failure(RuleName.type, spec.name, message))
                return
        self.columns[spec.name] = column

    def readable(self, *fields: str) -> bool:
        return all(f in self.columns for f in fields)

    def column(self, field: str) -> pa.Array:
        return self.columns[field]

    def present(self, field: str) -> np.ndarray:
        """Not null and, for text, not empty: Table Schema reads an empty cell as missing."""
        if field not in self._present:
            column = self.columns[field]
            if pa.types.is_string(column.type) or pa.types.is_large_string(column.type):
                mask = pc.greater(pc.binary_length(column), 0)
            else:
                mask = column.is_valid()
            self._present[field] = mask.fill_null(False).to_numpy(zero_copy_only=False)
        return self._present[field]

    def failing(self, field: str, ok: pa.Array) -> np.ndarray:
        """Rows where the field is present and `ok` (a boolean array over it) is not true."""
        return self.present(field) & ~ok.fill_null(False).to_numpy(zero_copy_only=False)

    def ric(self, field: str) -> identifiers.RicChecks:
        """The ID-number verdicts of a column, computed once for all the rules that need them."""
        if field not in self._ric:
            self._ric[field] = identifiers.check_ric(self.columns[field])
        return self._ric[field]

    def uscc(self, field: str) -> identifiers.UsccChecks:
        if field not in self._uscc:
            self._uscc[field] = identifiers.check_uscc(self.columns[field])
        return self._uscc[field]

    def value(self, field: str, row: int) -> object:
        return self.columns[field][row].as_py()

    def shown(self, field: str, row: int) -> str | None:
        if field not in self.columns:
            return None
        value = self.value(field, row)
        return None if value is None else masking.display(value, self.schema.field(field))

    def key(self, row: int) -> str | None:
        pk = self.schema.primary_key
        if not self.readable(*pk):
            return None
        return "|".join(self.shown(f, row) or "" for f in pk)
