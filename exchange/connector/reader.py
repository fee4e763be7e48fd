"""Reading a department's CSV, Parquet or JSON Lines file as batches of a resource's schema.

Files are streamed block by block, so memory stays bounded whatever the file size. Columns are
matched by name; text is converted by `convert` (CSV cells are always read as text first, so
ID numbers and division codes keep their leading zeros). The first bad value stops the read
with a `ReadError` that names the file, the row and the field.

Rows are numbered as an editor shows a file's lines: a CSV's header is line 1, so its first
data record is 2; JSON Lines and Parquet count records from 1. A record is what the format calls
one: a CSV cell may span lines inside quotes (then the number counts records, not lines), and
blank lines between JSON Lines records are skipped without being counted. The hub's gate numbers
its findings the same way (the connector sends `first_row_number` as `X-Batch-First-Row`).

A file with a header but no data rows (or an empty JSON Lines file) yields no batches at all.
"""

from __future__ import annotations

import codecs
import csv
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Literal

import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from exchange.connector.convert import BadValue, convert_batch
from exchange.connector.errors import GBK_HINT, ReadError
from exchange.connector.jsonl import jsonl_blocks
from exchange.core.conformance import missing_column, unknown_column
from exchange.core.resource_schema import ResourceSchema
from exchange.core.row_ops import OP_COLUMN, OP_MESSAGE, as_ops, bad_ops

__all__ = ["Format", "ReadError", "detect_format", "read_batches"]

Format = Literal["csv", "parquet", "jsonl"]

_SUFFIXES: dict[str, Format] = {
    ".csv": "csv",
    ".parquet": "parquet",
    ".pq": "parquet",
    ".jsonl": "jsonl",
    ".ndjson": "jsonl",
}
_BLOCK_BYTES = 1 << 20  # Arrow reads a few blocks ahead: larger blocks cost memory, not speed


def detect_format(path: Path) -> Format:
    """By suffix, else by content: Parquet's PAR1 magic, or a JSON object on the first line."""
    by_suffix = _SUFFIXES.get(path.suffix.lower())
    if by_suffix is not None:
        return by_suffix
    try:
        with path.open("rb") as f:
            head = f.read(4)
    except OSError as exc:
        raise ReadError(path, f"cannot open the file ({exc.strerror})") from None
    if head == b"PAR1":
        return "parquet"
    if head.lstrip(b"\xef\xbb\xbf \t\r\n").startswith(b"{"):
        return "jsonl"
    raise ReadError(path, "unknown file format: name it .csv, .parquet/.pq or .jsonl/.ndjson")


def first_row_number(path: Path) -> int:
    """The number the reader gives a file's first data row: a CSV's header is line 1."""
    try:
        return 2 if detect_format(path) == "csv" else 1
    except ReadError:
        return 1


def read_batches(
    path: Path,
    schema: ResourceSchema,
    *,
    batch_rows: int = 65_536,
    encoding: str = "utf-8",
) -> Iterator[pa.RecordBatch]:
    """Batches of at most `batch_rows` rows, each exactly `schema.arrow_schema()`.

    `encoding` applies to CSV and JSON Lines (e.g. "gbk"); Parquet text is always UTF-8.
    Errors surface while iterating, as ReadError.
    """
    if batch_rows < 1:
        raise ValueError("batch_rows must be at least 1")
    try:
        codec = codecs.lookup(encoding).name
    except LookupError:
        raise ReadError(path, f"unknown encoding {encoding!r}") from None
    if not path.is_file():
        raise ReadError(path, "no such file")
    fmt = detect_format(path)
    if fmt == "csv":
        raw = _csv_blocks(path, schema, codec)
    elif fmt == "parquet":
        raw = _parquet_blocks(path, schema, batch_rows)
    else:
        raw = jsonl_blocks(path, schema, codec)
    target = schema.arrow_schema()
    first = 2 if fmt == "csv" else 1
    done = 0
    for block in raw:
        for start in range(0, block.num_rows, batch_rows):
            piece = block.slice(start, batch_rows)
            try:
                converted = convert_batch(piece, schema, target)
                if OP_COLUMN in piece.schema.names:
                    converted = converted.append_column(OP_COLUMN, _ops(piece[OP_COLUMN]))
                yield converted
            except BadValue as bad:
                row = None if bad.index is None else done + bad.index + first
                raise ReadError(
                    path, bad.problem, row=row, field=bad.field, value=bad.value
                ) from None
            done += piece.num_rows


def _ops(column: pa.Array) -> pa.Array:
    """The optional `_op` column: upsert (or empty) writes the row, delete leaves a tombstone."""
    ops = as_ops(column)
    bad = bad_ops(ops)
    if bad:
        raise BadValue(OP_COLUMN, bad[0], ops[bad[0]].as_py(), OP_MESSAGE)
    return ops


def _check_columns(path: Path, names: Sequence[str], schema: ResourceSchema) -> None:
    seen: set[str] = set()
    for position, name in enumerate(names, 1):
        if not name:
            raise ReadError(path, f"header column {position} has no name (a trailing comma?)")
        if name in seen:
            raise ReadError(path, f"column {name!r} appears twice", field=name)
        seen.add(name)
        if name not in schema.by_name and name != OP_COLUMN:
            raise ReadError(path, unknown_column(name, schema.code, schema.field_names), field=name)
    for spec in schema.fields:
        if spec.required and spec.name not in seen:
            raise ReadError(path, missing_column(spec.name), field=spec.name)


def _csv_blocks(path: Path, schema: ResourceSchema, codec: str) -> Iterator[pa.RecordBatch]:
    header, has_data = _csv_header(path, codec)
    _check_columns(path, header, schema)
    if not has_data:
        return
    bad_rows: list[pacsv.InvalidRow] = []

    def keep_invalid(row: pacsv.InvalidRow) -> str:
        bad_rows.append(row)
        return "error"

    # Single-threaded parsing is what makes Arrow number the invalid rows; it costs ~nothing.
    read = pacsv.ReadOptions(
        use_threads=False,
        block_size=_BLOCK_BYTES,
        column_names=header,
        skip_rows=1,
        encoding="utf8" if codec == "utf-8" else codec,
    )
    parse = pacsv.ParseOptions(newlines_in_values=True, invalid_row_handler=keep_invalid)
    # Every column as bytes: no type inference, and invalid UTF-8 is reported per value later.
    convert = pacsv.ConvertOptions(
        column_types=dict.fromkeys(header, pa.binary()),
        null_values=[""],
        strings_can_be_null=True,
        quoted_strings_can_be_null=True,
    )
    try:
        yield from pacsv.open_csv(
            path, read_options=read, parse_options=parse, convert_options=convert
        )
    except UnicodeDecodeError:
        raise ReadError(path, f"the file is not valid {codec} text") from None
    except pa.ArrowInvalid as exc:
        if bad_rows:
            bad = bad_rows[0]
            raise ReadError(
                path,
                f"has {bad.actual_columns} values, the header {bad.expected_columns} columns",
                row=bad.number,
                value=bad.text,
            ) from None
        raise ReadError(path, f"not readable as CSV ({exc})") from None


def _csv_header(path: Path, codec: str) -> tuple[list[str], bool]:
    """The header's column names, and whether any data follows it."""
    with path.open("rb") as f:
        line = f.readline(1 << 20)
        if not line.strip():
            raise ReadError(path, "the file is empty: expected a header row with the column names")
        try:
            text = line.decode("utf-8-sig" if codec == "utf-8" else codec)
        except UnicodeDecodeError:
            raise ReadError(path, f"the header is not valid {codec} ({GBK_HINT})") from None
        header = next(csv.reader([text]))
        while chunk := f.read(1 << 16):
            if chunk.strip():
                return header, True
    return header, False


def _parquet_blocks(
    path: Path, schema: ResourceSchema, batch_rows: int
) -> Iterator[pa.RecordBatch]:
    try:
        parquet = pq.ParquetFile(path)
    except (pa.ArrowException, OSError) as exc:
        raise ReadError(path, f"not a readable Parquet file ({exc})") from None
    with parquet:
        _check_columns(path, parquet.schema_arrow.names, schema)
        try:
            yield from parquet.iter_batches(batch_size=batch_rows)
        except (pa.ArrowException, OSError) as exc:
            raise ReadError(path, f"damaged Parquet file ({exc})") from None
