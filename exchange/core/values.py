"""A field value by its type, in and out: the one rule for every platform.

In: text from a URL or form (or a JSON scalar) becomes the field type's Python value, or
ValueError. A datetime must say its offset (a naive one names no instant) and a number must be
finite (NaN and infinity match nothing). Out: dates and times as ISO 8601 text, and a non-finite
float as null, since JSON has no NaN.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Callable
from typing import Any


def parse(field_type: str, raw: Any) -> Any:
    """`raw` as a value of `field_type`; ValueError (or KeyError, TypeError) when it is not."""
    convert = _PARSERS.get(field_type)
    if convert is None:
        raise ValueError(f"no values of type {field_type!r}")
    return convert(raw)


def jsonable(value: Any) -> Any:
    if isinstance(value, dt.date | dt.time):  # datetime is a date
        return value.isoformat()
    if isinstance(value, float) and (math.isnan(value) or math.isinf(value)):
        return None
    return value


def _integer(raw: Any) -> int:
    if isinstance(raw, bool) or (isinstance(raw, float) and not raw.is_integer()):
        raise ValueError(raw)
    return int(raw)


def _number(raw: Any) -> float:
    value = float(raw)
    if math.isnan(value) or math.isinf(value):
        raise ValueError(raw)
    return value


def _boolean(raw: Any) -> bool:
    if isinstance(raw, bool):
        return raw
    return {"true": True, "false": False}[str(raw).lower()]


def _aware(raw: Any) -> dt.datetime:
    moment = dt.datetime.fromisoformat(str(raw))
    if moment.tzinfo is None:
        raise ValueError(raw)
    return moment


_PARSERS: dict[str, Callable[[Any], Any]] = {
    "string": lambda raw: raw if isinstance(raw, str) else str(raw),
    "integer": _integer,
    "year": _integer,
    "number": _number,
    "boolean": _boolean,
    "date": lambda raw: dt.date.fromisoformat(str(raw)),
    "datetime": _aware,
    "time": lambda raw: dt.time.fromisoformat(str(raw)),
}
