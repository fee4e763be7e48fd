"""Arrow record batches encoded as Parquet files or Arrow IPC streams, bytes handed out as each
row group (or batch) is done: the one encoder behind the registries' export files, the
sharing snapshots and the bulk copies, so a file never has to sit whole in memory."""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

PARQUET = "application/vnd.apache.parquet"


class _Drain:
    """A write-only file for the writers whose bytes are taken out after each batch."""

    closed = False

    def __init__(self) -> None:
        self._buf = bytearray()

    def write(self, data: bytes) -> int:
        self._buf += data
        return len(data)

    def flush(self) -> None:
        pass

    def take(self) -> bytes:
        out = bytes(self._buf)
        self._buf.clear()
        return out


def parquet_stream(batches: Iterable[pa.RecordBatch], schema: pa.Schema) -> Iterator[bytes]:
    """Encode record batches as one Parquet file (zstd), yielding bytes per finished row group."""
    return _encoded(batches, lambda sink: pq.ParquetWriter(sink, schema, compression="zstd"))


def ipc_stream(batches: Iterable[pa.RecordBatch], schema: pa.Schema) -> Iterator[bytes]:
    """Encode record batches as one Arrow IPC stream, yielding bytes as each batch is done."""
    return _encoded(batches, lambda sink: pa.ipc.new_stream(sink, schema))


def _encoded(
    batches: Iterable[pa.RecordBatch], open_writer: Callable[[_Drain], Any]
) -> Iterator[bytes]:
    sink = _Drain()
    writer = open_writer(sink)
    try:
        for rb in batches:
            writer.write_batch(rb)
            if chunk := sink.take():
                yield chunk
    finally:
        writer.close()
    yield sink.take()


def write_parquet(reader: pa.RecordBatchReader, path: Path) -> tuple[int, str]:
    """`reader` as a Parquet file at `path`; its rows and SHA-256, hashed as it is written."""
    rows = 0
    digest = hashlib.sha256()

    def counted() -> Iterator[pa.RecordBatch]:
        nonlocal rows
        for rb in reader:
            rows += rb.num_rows
            yield rb

    with path.open("wb") as out:
        for chunk in parquet_stream(counted(), reader.schema):
            digest.update(chunk)
            out.write(chunk)
    return rows, digest.hexdigest()
