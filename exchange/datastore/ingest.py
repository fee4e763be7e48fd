"""Gate and load one batch in a savepoint: every row accepted, or none (quarantined).

Shared by the exchange platform's intake and the base registries' `load`.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import pyarrow as pa
from sqlalchemy.orm import Session

from exchange.core.memory import release_freed_memory
from exchange.core.resource_schema import ResourceSchema
from exchange.datastore.loader import BatchLoader, DuplicateKeys, LoadResult
from exchange.datastore.references import DatabaseReferences
from exchange.datastore.tables import tables_for
from exchange.quality.gate import Accumulator


@dataclass(frozen=True)
class Ingested:
    gate: dict[str, Any]
    failed_rules: dict[str, int]
    result: LoadResult | None  # None: quarantined, nothing written

    @property
    def accepted(self) -> bool:
        return self.result is not None

    def load_summary(self) -> dict[str, Any]:
        r = self.result
        assert r is not None
        return {
            "inserted": r.inserted,
            "updated": r.updated,
            "deleted": r.deleted,
            "unchanged": r.unchanged,
            "first_seq": r.first_seq,
            "last_seq": r.last_seq,
        }


def gate_and_load(
    session: Session,
    schema: ResourceSchema,
    batches: Iterable[pa.RecordBatch],
    *,
    batch_id: uuid.UUID,
    recorded_at: dt.datetime,
    valid_from: dt.datetime | None = None,
    first_row: int = 0,
) -> Ingested:
    """Gate the batches and load them if they pass; findings number rows from `first_row`
    (the sender's file's numbering at intake; 0, their position, for in-process loads)."""
    savepoint = session.begin_nested()
    with BatchLoader(
        session.connection(),
        tables_for(schema),
        batch_id=batch_id,
        recorded_at=recorded_at,
        valid_from=valid_from,
    ) as loader:
        # The loader copies one record batch while the next is read and checked here; a
        # reference check that needs the database first waits for the copy (`settle`).
        refs = DatabaseReferences(session.connection(), settle=loader.settle)
        report = Accumulator(schema, refs, first_row=first_row)
        for rb in batches:
            report.check(rb)
            if report.blocking:
                break  # fail fast: the batch is quarantined whatever the rest holds
            loader.stage(rb)
        result = None
        if not report.blocking:
            try:
                result = loader.apply()
            except DuplicateKeys as dup:
                report.duplicate_keys(dup.keys, dup.total)
    if result is None:
        savepoint.rollback()
    else:
        savepoint.commit()
    release_freed_memory()
    return Ingested(report.to_dict(), report.rule_counts(), result)
