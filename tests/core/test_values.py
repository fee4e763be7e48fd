from __future__ import annotations

import datetime as dt
import math

import pytest

from exchange.core import values


@pytest.mark.parametrize(
    ("field_type", "raw", "value"),
    [
        ("integer", "42", 42),
        ("year", 2024.0, 2024),
        ("number", "1.5", 1.5),
        ("boolean", "TRUE", True),
        ("date", "2024-02-29", dt.date(2024, 2, 29)),
        ("datetime", "2024-02-29T08:00:00+08:00", dt.datetime(2024, 2, 29, tzinfo=dt.UTC)),
        ("time", "08:30", dt.time(8, 30)),
        ("string", 7, "7"),
    ],
)
def test_a_value_is_read_as_its_fields_type(field_type: str, raw: object, value: object) -> None:
    assert values.parse(field_type, raw) == value


@pytest.mark.parametrize(
    ("field_type", "raw"),
    [
        ("datetime", "2024-02-29T08:00:00"),  # names no instant
        ("number", "nan"),
        ("number", "inf"),
        ("integer", "1.5"),
        ("integer", True),
        ("boolean", "yes"),
        ("date", "2024-02-30"),
    ],
)
def test_a_value_that_names_nothing_is_refused(field_type: str, raw: object) -> None:
    with pytest.raises((ValueError, KeyError)):
        values.parse(field_type, raw)


def test_values_leave_as_json() -> None:
    assert values.jsonable(dt.date(2024, 2, 29)) == "2024-02-29"
    assert values.jsonable(dt.datetime(2024, 2, 29, tzinfo=dt.UTC)) == "2024-02-29T00:00:00+00:00"
    assert values.jsonable(math.nan) is None
    assert values.jsonable(1.5) == 1.5
