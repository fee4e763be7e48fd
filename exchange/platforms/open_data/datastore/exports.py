"""Whole-dataset downloads, streamed: CSV, JSON, Parquet and GeoJSON, with no row cap.

Each export opens its own session when the response starts sending (the request's own
transaction has ended by then), reads through a server-side cursor and yields bytes chunk by
chunk, so memory stays flat for a 10M-row table and a client that hangs up stops the query.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
from sqlalchemy.orm import Session, sessionmaker

from exchange.core import values
from exchange.core.resource_schema import ResourceSchema
from exchange.platforms.open_data import access
from exchange.platforms.open_data.datastore import repository as ds
from exchange.platforms.open_data.errors import BadParameter

CHUNK_ROWS = 20_000
PARQUET_CHUNK_ROWS = 100_000
BOM = "\ufeff".encode()  # lets spreadsheet programs open Chinese text in CSV correctly


@dataclass(frozen=True)
class Export:
    media_type: str
    filename: str
    body: Iterator[bytes]


def _session_stream(
    sessions: sessionmaker[Session], produce: Callable[[Session], Iterator[bytes]]
) -> Iterator[bytes]:
    with sessions() as session:
        try:
            yield from produce(session)
        finally:
            session.rollback()  # read-only; ends the cursor's transaction


def _csv(schema: ResourceSchema) -> Callable[[Session], Iterator[bytes]]:
    names = [f.name for f in access.served_fields(schema)]

    def produce(session: Session) -> Iterator[bytes]:
        yield BOM
        if session.get_bind().dialect.name == "postgresql":
            yield from ds.copy_csv(session, schema)
            return
        buf = io.StringIO()
        writer = csv.writer(buf, lineterminator="\n")
        writer.writerow(names)
        for chunk in ds.stream_chunks(session, schema, CHUNK_ROWS):
            writer.writerows(
                [("true" if v is True else "false" if v is False else v) for v in row]
                for row in chunk
            )
            yield buf.getvalue().encode()
            buf.seek(0)
            buf.truncate()
        yield buf.getvalue().encode()

    return produce


def _dumps(obj: Any) -> str:
    return json.dumps(obj, ensure_ascii=False, separators=(",", ":"), default=values.jsonable)


def _json(schema: ResourceSchema) -> Callable[[Session], Iterator[bytes]]:
    names = [f.name for f in access.served_fields(schema)]

    def produce(session: Session) -> Iterator[bytes]:
        yield b"["
        first = True
        for chunk in ds.stream_chunks(session, schema, CHUNK_ROWS):
            lines = ",\n".join(_dumps(dict(zip(names, row, strict=True))) for row in chunk)
            yield ((b"\n" if first else b",\n") + lines.encode())
            first = False
        yield b"\n]\n"

    return produce


def _geojson(schema: ResourceSchema) -> Callable[[Session], Iterator[bytes]]:
    names = [f.name for f in access.served_fields(schema)]
    lon, lat = names.index("longitude"), names.index("latitude")
    props = [i for i in range(len(names)) if i not in (lon, lat)]

    def feature(row: Any) -> str:
        geometry = (
            {"type": "Point", "coordinates": [row[lon], row[lat]]}
            if row[lon] is not None and row[lat] is not None
            else None
        )
        properties = {names[i]: row[i] for i in props}
        return _dumps({"type": "Feature", "geometry": geometry, "properties": properties})

    def produce(session: Session) -> Iterator[bytes]:
        yield b'{"type":"FeatureCollection","features":['
        first = True
        for chunk in ds.stream_chunks(session, schema, CHUNK_ROWS):
            lines = ",\n".join(feature(row) for row in chunk)
            yield ((b"\n" if first else b",\n") + lines.encode())
            first = False
        yield b"\n]}\n"

    return produce


class _Drain(io.RawIOBase):
    """A write-only file whose contents are taken out after every row group."""

    def __init__(self) -> None:
        self.buf = bytearray()

    def writable(self) -> bool:
        return True

    def write(self, b: Any) -> int:
        self.buf += b
        return len(b)

    def take(self) -> bytes:
        out = bytes(self.buf)
        self.buf.clear()
        return out


def _parquet(schema: ResourceSchema) -> Callable[[Session], Iterator[bytes]]:
    fields = access.served_fields(schema)
    arrow = pa.schema([pa.field(f.name, f.arrow_type) for f in fields])

    def produce(session: Session) -> Iterator[bytes]:
        sink = _Drain()
        with pq.ParquetWriter(sink, arrow, compression="zstd") as writer:
            for chunk in ds.stream_chunks(session, schema, PARQUET_CHUNK_ROWS):
                columns = list(zip(*chunk, strict=True))
                table = pa.Table.from_arrays(
                    [pa.array(col, f.type) for col, f in zip(columns, arrow, strict=True)],
                    schema=arrow,
                )
                writer.write_table(table)
                yield sink.take()
        yield sink.take()

    return produce


FORMATS: dict[str, tuple[str, Callable[[ResourceSchema], Callable[[Session], Iterator[bytes]]]]] = {
    "csv": ("text/csv; charset=utf-8", _csv),
    "json": ("application/json", _json),
    "parquet": ("application/vnd.apache.parquet", _parquet),
    "geojson": ("application/geo+json", _geojson),
}


def export(sessions: sessionmaker[Session], schema: ResourceSchema, fmt: str) -> Export:
    fmt = fmt.lower()
    if fmt not in FORMATS:
        raise BadParameter("format", f"use one of {', '.join(FORMATS)}")
    if fmt == "geojson" and not access.is_geo(schema):
        raise BadParameter("format", f"{schema.code} has no coordinates: GeoJSON is not offered")
    media_type, make = FORMATS[fmt]
    return Export(media_type, f"{schema.code}.{fmt}", _session_stream(sessions, make(schema)))
