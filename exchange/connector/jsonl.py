"""JSON Lines: one JSON object per line, streamed by Arrow's JSON reader.

Fields keep their JSON types: integers, numbers, booleans and years are JSON numbers or
booleans; every other field (text, dates, datetimes, times) is a JSON string, read as bytes so it
goes through the same text conversion as a CSV cell. Arrow reports a bad record only by its
block, so on failure the block's records are re-read one by one to name the row and field.
A key left out of a record is a null, so a missing required field is reported per record.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pyarrow as pa
import pyarrow.json as pajson

from exchange.connector.errors import GBK_HINT, ReadError
from exchange.core.resource_schema import FieldSpec, ResourceSchema

_BLOCK_BYTES = 1 << 20  # must hold the longest line

_JSON_TYPES: dict[str, pa.DataType] = {
    "integer": pa.int64(),
    "number": pa.float64(),
    "boolean": pa.bool_(),
    "year": pa.int32(),
}  # every other type is a JSON string, read as bytes like CSV cells


def jsonl_blocks(path: Path, schema: ResourceSchema, codec: str) -> Iterator[pa.RecordBatch]:
    with path.open("rb") as f:
        if not f.read(1 << 16).strip():
            return
    explicit = pa.schema([(f.name, _JSON_TYPES.get(f.type, pa.binary())) for f in schema.fields])
    stream = pa.input_stream(path)
    if codec != "utf-8":
        stream = pa.transcoding_input_stream(stream, codec, "utf-8")
    done = 0
    try:
        reader = pajson.open_json(
            stream,
            read_options=pajson.ReadOptions(block_size=_BLOCK_BYTES),
            parse_options=pajson.ParseOptions(
                explicit_schema=explicit, unexpected_field_behavior="error"
            ),
        )
        for block in reader:
            done += block.num_rows
            yield block
    except (pa.ArrowInvalid, UnicodeDecodeError) as exc:
        raise _diagnose_jsonl(path, schema, codec, done, exc) from None
    finally:
        stream.close()


def _diagnose_jsonl(
    path: Path, schema: ResourceSchema, codec: str, skip: int, exc: Exception
) -> ReadError:
    """Arrow rejected a block without saying where: re-read its records one by one to find it."""
    row = 0
    with path.open("rb") as f:
        for line in f:
            if not line.strip():
                continue
            row += 1
            if row > skip and (error := _json_record_error(path, schema, codec, line, row)):
                return error
    return ReadError(path, f"not readable as JSON Lines ({exc})")


def _json_record_error(
    path: Path, schema: ResourceSchema, codec: str, line: bytes, row: int
) -> ReadError | None:
    try:
        record = json.loads(line.decode("utf-8-sig" if codec == "utf-8" else codec))
    except UnicodeDecodeError:
        return ReadError(path, f"is not valid {codec} ({GBK_HINT})", row=row, value=line.strip())
    except ValueError as exc:
        return ReadError(path, f"is not valid JSON ({exc})", row=row, value=line.strip())
    if not isinstance(record, dict):
        return ReadError(path, "is not a JSON object", row=row, value=line.strip())
    for name, value in record.items():
        spec = schema.by_name.get(name)
        if spec is None:
            return ReadError(
                path, f"unknown field {name!r} for resource {schema.code}", row=row, field=name
            )
        if value is not None and not _json_fits(value, spec):
            expected = _JSON_EXPECTED.get(spec.type, "a string")
            problem = f"is a JSON {_json_kind(value)}, expected {expected}"
            return ReadError(path, problem, row=row, field=name, value=json.dumps(value))
    return None


def _json_fits(value: object, spec: FieldSpec) -> bool:
    if isinstance(value, bool):
        return spec.type == "boolean"
    if spec.type == "integer":
        return isinstance(value, int) and -(2**63) <= value < 2**63
    if spec.type == "year":
        return isinstance(value, int) and -(2**31) <= value < 2**31
    if spec.type == "number":
        return isinstance(value, int | float)
    return isinstance(value, str) and spec.type not in _JSON_TYPES


_JSON_EXPECTED = {
    "integer": "an integer",
    "number": "a number",
    "boolean": "true or false",
    "year": "a year number",
}


_JSON_KINDS: dict[type, str] = {str: "string", list: "array", dict: "object"}


def _json_kind(value: object) -> str:
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int | float):
        return "number"
    return _JSON_KINDS.get(type(value), "value")
