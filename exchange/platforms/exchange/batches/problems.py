"""What staff see of batches: the latest ones, every problem of a quarantined batch, its refused
rows, and who may see which (the provider of its resource, a department it was delivered to,
the bureau).

The gate stops at the first failing chunk and keeps a sample of findings per rule; a provider
fixing a file needs all of them, so a quarantined batch's stored payload is checked again here,
whole, with the same rules and the same database references.
"""

from __future__ import annotations

import csv
import io
import uuid
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

import pyarrow as pa
from sqlalchemy.orm import Session

from exchange.core.errors import Conflict, Forbidden
from exchange.core.row_ops import OP_COLUMN
from exchange.core.runtime import Runtime
from exchange.datastore.references import DatabaseReferences
from exchange.platforms.exchange.batches import repository as repo
from exchange.platforms.exchange.errors import BatchNotFound
from exchange.platforms.exchange.intake.service import read_stream
from exchange.platforms.exchange.models import Batch
from exchange.quality import validate_table

MAX_SHOWN = 5000  # findings listed on a page; the counts and the refused rows are whole


@dataclass(frozen=True)
class Viewer:
    """Who asks: a department (its id) or a bureau role (no department: sees every batch)."""

    department_id: uuid.UUID | None
    may_read_rows: bool  # the refused rows carry personal data: the provider's staff only


class NotYourBatch(Forbidden):
    def __init__(self, batch_id: uuid.UUID) -> None:
        super().__init__(f"batch {batch_id}: neither your resource's nor delivered to you")


class RowsNotForYou(Forbidden):
    def __init__(self) -> None:
        super().__init__("the refused rows are for the provider's staff (they hold its data)")


class NotQuarantined(Conflict):
    def __init__(self, batch_id: uuid.UUID, status: str) -> None:
        super().__init__(f"batch {batch_id} is {status}: nothing was refused")


@dataclass
class Problems:
    findings: list[dict[str, Any]] = field(default_factory=list)  # rule, row, field, key, ...
    counts: dict[str, int] = field(default_factory=dict)  # per rule, every row
    refused_rows: set[int] = field(default_factory=set)
    whole_batch: bool = False  # a column-level failure refuses every row
    rows: int = 0

    @property
    def shown_all(self) -> bool:
        return sum(self.counts.values()) <= len(self.findings)


def latest(session: Session, viewer: Viewer, *, status: str | None, limit: int) -> Sequence[Batch]:
    return repo.latest(session, provider_id=viewer.department_id, status=status, limit=limit)


def visible(session: Session, viewer: Viewer, batch_id: uuid.UUID) -> Batch:
    b = repo.get_batch(session, batch_id)
    if b is None:
        raise BatchNotFound(batch_id)
    if viewer.department_id is None:
        return b
    if repo.provider_of(session, b.resource_code) == viewer.department_id:
        return b
    if repo.delivered_to(session, b.id, viewer.department_id):
        return b
    raise NotYourBatch(batch_id)


def problems(session: Session, rt: Runtime, viewer: Viewer, batch_id: uuid.UUID) -> Problems:
    b = visible(session, viewer, batch_id)
    if b.status != "quarantined":
        raise NotQuarantined(batch_id, b.status)
    found = Problems()
    for rb, offset in _chunks(rt, b):
        _check(session, rt, b, rb, offset, found)
    if not found.findings and b.gate:
        # Refused for what only the load or the intake sees (a key already held, an operation
        # not allowed): the gate's own report is the whole story.
        found.findings = list(b.gate.get("findings", []))
        found.counts = dict(b.gate.get("failures_by_rule", {}))
        found.refused_rows = {int(f["row"]) for f in found.findings if f.get("row") is not None}
    return found


def refused_rows_csv(session: Session, rt: Runtime, viewer: Viewer, batch_id: uuid.UUID) -> str:
    """The refused rows as the provider sent them, each with its row number and problems."""
    if not viewer.may_read_rows:
        raise RowsNotForYou()
    found = problems(session, rt, viewer, batch_id)
    b = visible(session, viewer, batch_id)
    why: dict[int, list[str]] = {}
    for f in found.findings:
        if f.get("row") is not None and f.get("severity") == "blocking":
            why.setdefault(int(f["row"]), []).append(f"{f['rule']}:{f.get('field') or ''}")
    out = io.StringIO()
    writer: Any = None
    for rb, offset in _chunks(rt, b):
        for i, row in enumerate(rb.to_pylist()):
            n = offset + i
            if not found.whole_batch and n not in found.refused_rows:
                continue
            if writer is None:
                writer = csv.DictWriter(out, ["_row", "_problems", *row.keys()])
                writer.writeheader()
            problems_of = "; ".join(why.get(n, ["(see the counts per rule)"]))
            writer.writerow({"_row": n, "_problems": problems_of, **row})
    return out.getvalue()


def _chunks(rt: Runtime, b: Batch) -> Iterator[tuple[pa.RecordBatch, int]]:
    schema = rt.schemas[b.resource_code]
    offset = 0
    for rb in read_stream(rt, schema, b.payload_key):
        yield rb, offset
        offset += rb.num_rows


def _check(
    session: Session, rt: Runtime, b: Batch, rb: pa.RecordBatch, offset: int, found: Problems
) -> None:
    table = pa.Table.from_batches([rb])
    if OP_COLUMN in table.column_names:
        table = table.drop_columns([OP_COLUMN])
    refs = DatabaseReferences(session.connection())
    report = validate_table(
        table, rt.schemas[b.resource_code], max_samples=max(rb.num_rows, 1), references=refs
    )
    for rule, count in report.failures_by_rule.items():
        found.counts[rule] = found.counts.get(rule, 0) + count
    for f in report.findings:
        d = f.to_dict()
        if d["row"] is not None:
            d["row"] += offset
            if d["severity"] == "blocking":
                found.refused_rows.add(d["row"])
        elif d["severity"] == "blocking":
            found.whole_batch = True
        if len(found.findings) < MAX_SHOWN:
            found.findings.append(d)
    found.rows += rb.num_rows
