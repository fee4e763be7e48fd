"""National code lists that schema fields refer to by name (`"codeList": "GB/T 2261.1"`)."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from functools import cache

import pyarrow as pa
import pyarrow.compute as pc

from exchange.core import divisions

GENDER = {"0": "未知的性别", "1": "男性", "2": "女性", "9": "未说明的性别"}  # GB/T 2261.1


# The shipped list has 高山族 last (as cpca had it); GB/T 3304 numbers it 23.
_GAOSHAN, _GAOSHAN_CODE = "高山族", 23


@cache
def _ethnic() -> dict[str, str]:
    names = [n for n in divisions.ethnic_groups() if n != _GAOSHAN]
    names.insert(_GAOSHAN_CODE - 1, _GAOSHAN)
    return {f"{i:02d}": name for i, name in enumerate(names, 1)}


@cache
def _divisions() -> dict[str, str]:
    return {code: d.name for code, d in divisions.table().items()}


_LISTS: dict[str, Callable[[], Mapping[str, str]]] = {
    "GB/T 2261.1": lambda: GENDER,
    "GB/T 3304": _ethnic,
    "GB/T 2260": _divisions,
}


# Lists whose labels are unique, so a value may be sent as the code or as its label (汉族 for 01);
# the code is what is stored. Division names repeat across the country: only codes there.
NAMED = frozenset({"GB/T 2261.1", "GB/T 3304"})


def exists(name: str) -> bool:
    return name in _LISTS


def get(name: str) -> Mapping[str, str]:
    """Code -> label for a named list; raises KeyError for an unknown list."""
    return _LISTS[name]()


def names() -> list[str]:
    return sorted(_LISTS)


@cache
def codes_by_label(name: str) -> Mapping[str, str]:
    """Label -> code for a list in NAMED (empty for the others)."""
    return {label: code for code, label in get(name).items()} if name in NAMED else {}


def accepted(name: str) -> frozenset[str]:
    """The values a field of this list accepts: its codes, and its labels where NAMED."""
    return frozenset(get(name)) | frozenset(codes_by_label(name))


def label(name: str, value: object) -> str:
    """What to show for a stored value: the code's label (a label stored before codes were
    required is shown as it is)."""
    text = str(value)
    labels = get(name)
    if text in labels:
        return labels[text]
    return text if text in codes_by_label(name) else ""


def to_codes(rb: pa.RecordBatch, fields: Iterable[tuple[str, str]]) -> pa.RecordBatch:
    """`rb` with each label of a NAMED list replaced by its code; (field, list) pairs name the
    columns. Other values pass unchanged, for the gate to judge."""
    for field, name in fields:
        by_label = codes_by_label(name)
        if not by_label or field not in rb.schema.names:
            continue
        i = rb.schema.get_field_index(field)
        column = rb.column(i)
        if not pa.types.is_string(column.type):
            continue
        labels = pa.array(list(by_label), pa.string())
        at = pc.index_in(column, value_set=labels)
        if at.null_count == len(at):
            continue
        codes = pa.array(list(by_label.values()), pa.string()).take(at)
        rb = rb.set_column(i, rb.schema.field(i), pc.if_else(pc.is_valid(at), codes, column))
    return rb
