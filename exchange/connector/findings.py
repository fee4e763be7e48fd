"""The gate's findings as the sender sees them: numbered as its own file, with its own values.

The hub numbers a finding's `row` from 0 within the batch and masks personal values (its
findings are logged and shown to operators). The sender holds the payload it sent, so before a
refused batch is set aside each finding gains `line`, the row's number in the source file as the
connector's reader counts it (a CSV's header is line 1, so its first row is line 2; JSON Lines
and Parquet count records from 1), and `key` / `value` in plain, read from that payload.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pyarrow as pa

from exchange.connector.reader import first_row_number
from exchange.connector.spool import SpooledBatch
from exchange.core.resource_schema import SCHEMAS_DIR, load_all


def own_view(batch: SpooledBatch, body: dict[str, Any]) -> dict[str, Any]:
    problems = [p for p in body.get("problems") or [] if isinstance(p, dict)]
    wanted = {p["row"] for p in problems if isinstance(p.get("row"), int)}
    if not wanted:
        return body
    first = first_row_number(Path(batch.source)) if batch.source else 1
    schema = load_all(SCHEMAS_DIR).get(batch.resource)
    key_fields = list(schema.primary_key) if schema else []
    rows = _rows(Path(batch.path), wanted)
    shown = []
    for p in problems:
        row = p.get("row")
        if not isinstance(row, int):
            shown.append(p)
            continue
        p = {**p, "line": row + first}
        values = rows.get(row)
        if values is not None:
            if key_fields and all(f in values for f in key_fields):
                p["key"] = "|".join("" if values[f] is None else str(values[f]) for f in key_fields)
            if p.get("field") in values and p.get("value") is not None:
                p["value"] = str(values[p["field"]])
        shown.append(p)
    return {**body, "problems": shown}


def _rows(path: Path, wanted: set[int]) -> dict[int, dict[str, Any]]:
    """The wanted rows of a spooled payload, streaming it (it may be larger than memory)."""
    found: dict[int, dict[str, Any]] = {}
    if not path.exists():
        return found
    offset = 0
    with pa.OSFile(str(path), "rb") as source:
        for rb in pa.ipc.open_stream(source):
            for row in sorted(r for r in wanted if offset <= r < offset + rb.num_rows):
                found[row] = rb.slice(row - offset, 1).to_pylist()[0]
            offset += rb.num_rows
            if offset > max(wanted):
                break
    return found
