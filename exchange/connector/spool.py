"""Batches are first written to the connector's outbox folder, then uploaded from there.

The file on disk is the connector's store-and-forward: the SHA-256 is known before the upload
starts, a crash loses nothing, and a retry sends the very same bytes under the same id.
"""

from __future__ import annotations

import hashlib
import json
import os
import uuid
from collections.abc import Iterable
from dataclasses import asdict, dataclass
from pathlib import Path

import pyarrow as pa

# Batch ids derive from content: the same rows re-pushed are recognised as the same batch,
# changed rows (a fixed re-send) get a new id.
BATCH_NAMESPACE = uuid.UUID("6f1c3c1e-6a55-4a8e-9d43-2c1b8f1f0a11")


@dataclass
class SpooledBatch:
    batch_id: str
    resource: str
    path: str
    sha256: str
    size: int
    rows: int
    destination: str | None = None
    source: str | None = None
    schema_version: int | None = None  # the node's version the rows were written against
    first_row: int = 1  # the number the source file gives its first row (`reader`)

    @property
    def meta_path(self) -> Path:
        return Path(self.path).with_suffix(".json")

    def save_meta(self) -> None:
        tmp = self.meta_path.with_suffix(".json.tmp")
        tmp.write_text(json.dumps(asdict(self), ensure_ascii=False))
        os.replace(tmp, self.meta_path)

    @classmethod
    def load_meta(cls, path: Path) -> SpooledBatch:
        return cls(**json.loads(path.read_text("utf-8")))


def spool(
    batches: Iterable[pa.RecordBatch],
    schema: pa.Schema,
    outbox: Path,
    resource: str,
    *,
    destination: str | None = None,
    source: str | None = None,
    schema_version: int | None = None,
    first_row: int = 1,
) -> SpooledBatch:
    tmp = outbox / f".writing-{uuid.uuid4().hex}.arrow"
    rows = 0
    options = pa.ipc.IpcWriteOptions(compression="zstd")
    stream = iter(batches)
    first = next(stream, None)
    # A file with an `_op` column (upsert/delete) carries it in every batch: write that shape.
    shape = first.schema if first is not None else schema
    try:
        with (
            pa.OSFile(str(tmp), "wb") as sink,
            pa.ipc.new_stream(sink, shape, options=options) as w,
        ):
            for rb in [first] if first is not None else []:
                w.write_batch(rb)
                rows += rb.num_rows
            for rb in stream:
                w.write_batch(rb)
                rows += rb.num_rows
    except BaseException:
        tmp.unlink(missing_ok=True)  # a read error surfaces mid-stream: leave no half batch
        raise
    digest = hashlib.sha256()
    with tmp.open("rb") as fh:
        while chunk := fh.read(4 * 1024 * 1024):
            digest.update(chunk)
    sha = digest.hexdigest()
    batch_id = str(uuid.uuid5(BATCH_NAMESPACE, f"{resource}:{destination}:{sha}"))
    final = outbox / f"{batch_id}.arrow"
    os.replace(tmp, final)
    spooled = SpooledBatch(
        batch_id,
        resource,
        str(final),
        sha,
        final.stat().st_size,
        rows,
        destination,
        source,
        schema_version,
        first_row,
    )
    spooled.save_meta()
    return spooled


def pending(outbox: Path) -> list[SpooledBatch]:
    """Spooled batches not yet acknowledged by the hub, oldest first (order per resource)."""
    metas = sorted(outbox.glob("*.json"), key=lambda p: p.stat().st_mtime_ns)
    return [SpooledBatch.load_meta(p) for p in metas]
