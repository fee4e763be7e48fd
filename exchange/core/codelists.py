"""National code lists that schema fields refer to by name (`"codeList": "GB/T 2261.1"`)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from functools import cache

from exchange.core import divisions

GENDER = {"0": "未知的性别", "1": "男性", "2": "女性", "9": "未说明的性别"}  # GB/T 2261.1


@cache
def _ethnic() -> dict[str, str]:
    return {name: name for name in divisions.ethnic_groups()}


@cache
def _divisions() -> dict[str, str]:
    return {code: d.name for code, d in divisions.table().items()}


_LISTS: dict[str, Callable[[], Mapping[str, str]]] = {
    "GB/T 2261.1": lambda: GENDER,
    "GB/T 3304": _ethnic,
    "GB/T 2260": _divisions,
}


def exists(name: str) -> bool:
    return name in _LISTS


def get(name: str) -> Mapping[str, str]:
    """Code -> label for a named list; raises KeyError for an unknown list."""
    return _LISTS[name]()


def names() -> list[str]:
    return sorted(_LISTS)
