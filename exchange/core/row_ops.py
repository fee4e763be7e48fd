"""The optional `_op` column of a batch: what each row asks for, checked the one way here for
the connector (reading a file) and the gate (a batch at a node) alike.

Its own module so the connector can read files without importing the database layer.
"""

from __future__ import annotations

import pyarrow as pa
import pyarrow.compute as pc

OP_COLUMN = "_op"
OPS = ("upsert", "delete")  # a delete is kept as a tombstone, never a removed row
OP_RULE = "op"
OP_MESSAGE = f"{OP_COLUMN} must be one of {', '.join(OPS)} (or empty, which upserts)"


def as_ops(column: pa.Array | pa.ChunkedArray) -> pa.Array | pa.ChunkedArray:
    """The column as text (a file may give it another type)."""
    return column if pa.types.is_string(column.type) else column.cast(pa.string())


def bad_ops(column: pa.Array | pa.ChunkedArray) -> list[int]:
    """Positions of rows whose `_op` is neither empty nor one of OPS."""
    ops = as_ops(column)
    bad = pc.invert(pc.or_(pc.is_in(ops, pa.array(OPS)), pc.is_null(ops)))
    return [int(i) for i in pc.indices_nonzero(bad).to_pylist()]
