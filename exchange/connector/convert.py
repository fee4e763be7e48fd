"""Converting raw columns to a resource's Arrow types, vectorised.

Raw columns come as UTF-8 bytes (CSV, JSON strings) or already typed (Parquet, JSON numbers).
Every conversion is a whole-column Arrow kernel; only when one fails do we look for the first
bad value, by bisecting the column with the same kernel, so the happy path never loops per row
and the reported value is exactly the one the kernel rejected.
"""

from __future__ import annotations

from collections.abc import Callable

import pyarrow as pa
import pyarrow.compute as pc

from exchange.connector.errors import GBK_HINT
from exchange.core.resource_schema import FieldSpec, ResourceSchema

# Naive datetimes are local time where the departments are.
LOCAL_TZ = "Asia/Shanghai"

_UTC_US = pa.timestamp("us", tz="UTC")
_OFFSET = r"(?:Z|[+-][0-9]{2}:?[0-9]{2})$"

Converter = Callable[[pa.Array], pa.Array]


class BadValue(Exception):
    """One value (or a whole column when `index` is None) that cannot be converted."""

    def __init__(self, field: str, index: int | None, value: object, problem: str) -> None:
        super().__init__(problem)
        self.field = field
        self.index = index
        self.value = value
        self.problem = problem


def _integer(arr: pa.Array) -> pa.Array:
    # Arrow's parser also takes hexadecimal ("0x10"); Table Schema integers are decimal only.
    if pc.all(pc.match_substring_regex(arr, r"^-?[0-9]+$")).as_py() is False:
        raise pa.ArrowInvalid("not a decimal integer")
    return pc.cast(arr, pa.int64())


def _year(arr: pa.Array) -> pa.Array:
    if pc.all(pc.match_substring_regex(arr, r"^[0-9]{4}$")).as_py() is False:
        raise pa.ArrowInvalid("not a four-digit year")
    return pc.cast(arr, pa.int32())


def _time(arr: pa.Array) -> pa.Array:
    # Arrow has no string -> time cast; a time of day on the epoch date is its own offset.
    on_epoch = pc.cast(pc.binary_join_element_wise("1970-01-01T", arr, ""), pa.timestamp("us"))
    return pc.cast(pc.cast(on_epoch, pa.int64()), pa.time64("us"))


def _datetime(arr: pa.Array) -> pa.Array:
    aware = pc.match_substring_regex(arr, _OFFSET)
    with_offset = pc.cast(pc.if_else(aware, arr, None), _UTC_US)
    naive = pc.cast(pc.if_else(aware, None, arr), pa.timestamp("us"))
    return pc.coalesce(with_offset, _local_to_utc(naive))


def _local_to_utc(naive: pa.Array) -> pa.Array:
    # Shanghai had summer time 1986-1991: take the earlier reading of a skipped or doubled hour.
    local = pc.assume_timezone(naive, LOCAL_TZ, ambiguous="earliest", nonexistent="earliest")
    return pc.cast(local, _UTC_US)


_TEXT: dict[str, tuple[Converter, str]] = {
    "integer": (_integer, "is not an integer"),
    "number": (lambda a: pc.cast(a, pa.float64()), "is not a number"),
    "boolean": (
        lambda a: pc.cast(a, pa.bool_()),
        "is not a boolean (expected true, false, 1 or 0)",
    ),
    "date": (lambda a: pc.cast(a, pa.date32()), "is not a date (expected YYYY-MM-DD)"),
    "datetime": (
        _datetime,
        "is not a datetime (expected ISO 8601 such as 2024-05-01T08:30:00, naive = Beijing time)",
    ),
    "time": (_time, "is not a time (expected HH:MM:SS)"),
    "year": (_year, "is not a year (expected YYYY)"),
}

_NOT_UTF8 = f"is not valid UTF-8 ({GBK_HINT})"


def convert_batch(raw: pa.RecordBatch, schema: ResourceSchema, target: pa.Schema) -> pa.RecordBatch:
    """`raw` converted to `target`; a column `raw` lacks becomes nulls. Raises BadValue."""
    columns = []
    for spec in schema.fields:
        index = raw.schema.get_field_index(spec.name)
        if index < 0:
            column = pa.nulls(raw.num_rows, spec.arrow_type)
        else:
            column = convert_column(raw.column(index), spec)
        if spec.required and column.null_count:
            first = pc.index(pc.is_null(column), True).as_py()
            raise BadValue(spec.name, first, None, "a value is required but it is empty or missing")
        columns.append(column)
    return pa.RecordBatch.from_arrays(columns, schema=target)


def convert_column(arr: pa.Array, spec: FieldSpec) -> pa.Array:
    if pa.types.is_dictionary(arr.type):
        arr = arr.dictionary_decode()
    if pa.types.is_null(arr.type):
        return pa.nulls(len(arr), spec.arrow_type)
    if pa.types.is_binary(arr.type) or pa.types.is_large_binary(arr.type):
        arr = _attempt(arr, spec, lambda a: pc.cast(a, pa.string()), _NOT_UTF8)
    if pa.types.is_string(arr.type) or pa.types.is_large_string(arr.type):
        # Table Schema's default missingValues: an empty string is a missing value.
        text = pc.if_else(pc.equal(arr, ""), None, arr.cast(pa.string()))
        if spec.type == "string":
            return text
        convert, problem = _TEXT[spec.type]
        return _attempt(text, spec, convert, problem)
    return _cast_typed(arr, spec)


def _cast_typed(arr: pa.Array, spec: FieldSpec) -> pa.Array:
    target = spec.arrow_type
    if spec.type == "string":
        # Numbers turned into text have already lost their leading zeros (ID numbers, codes).
        raise BadValue(spec.name, None, None, f"column of type {arr.type} must be stored as text")
    if spec.type == "datetime" and pa.types.is_timestamp(arr.type) and arr.type.tz is None:
        naive = _attempt(
            arr, spec, lambda a: pc.cast(a, pa.timestamp("us")), "is more precise than microseconds"
        )
        return _local_to_utc(naive)
    try:
        pc.cast(arr.slice(0, 0), target)
    except (pa.ArrowNotImplementedError, pa.ArrowInvalid):
        raise BadValue(
            spec.name, None, None, f"column of type {arr.type} cannot be read as {spec.type}"
        ) from None
    return _attempt(
        arr, spec, lambda a: pc.cast(a, target), f"does not fit {spec.type} ({target}) exactly"
    )


def _attempt(arr: pa.Array, spec: FieldSpec, convert: Converter, problem: str) -> pa.Array:
    try:
        return convert(arr)
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        pass
    index = _first_failure(arr, convert)
    raise BadValue(spec.name, index, arr[index].as_py(), problem)


def _first_failure(arr: pa.Array, convert: Converter) -> int:
    """Index of the first value `convert` rejects, given that it rejects `arr` as a whole.

    Conversions are element-wise, so halving the failing range finds it in about len(arr) value
    conversions in total, all inside Arrow.
    """
    lo, hi = 0, len(arr)
    while hi - lo > 1:
        mid = (lo + hi) // 2
        try:
            convert(arr.slice(lo, mid - lo))
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
            hi = mid
        else:
            lo = mid
    return lo
