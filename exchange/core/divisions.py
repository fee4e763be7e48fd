"""Administrative division codes (GB/T 2260, 12-digit form) from the `cpca` package's real table."""

from __future__ import annotations

import csv
import importlib.util
from dataclasses import dataclass
from functools import cache
from pathlib import Path


@dataclass(frozen=True, slots=True)
class Division:
    code: str
    name: str
    level: str  # province | city | district
    longitude: float | None
    latitude: float | None

    @property
    def parent_code(self) -> str | None:
        return parent_of(self.code)


def _level(code: str) -> str:
    if code[2:] == "0" * 10:
        return "province"
    if code[4:] == "0" * 8:
        return "city"
    return "district"


def parent_of(code: str) -> str | None:
    """The division one level up, read from the code's structure (GB/T 2260: two digits name
    the province, four the city); None for a province."""
    level = _level(code)
    if level == "province":
        return None
    if level == "city":
        return code[:2] + "0" * 10
    return code[:4] + "0" * 8


def child_towards(code: str, destination: str) -> str | None:
    """The division directly below `code` on the way down to `destination`, or None when
    `destination` does not lie below `code`."""
    step = destination
    while (up := parent_of(step)) is not None:
        if up == code:
            return step
        step = up
    return None


def _cpca_resource(name: str) -> str:
    # Located without importing cpca: its __init__ needs pkg_resources and loads a matcher.
    spec = importlib.util.find_spec("cpca")
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError("the cpca package is not installed")
    path = Path(next(iter(spec.submodule_search_locations))) / "resources" / name
    return path.read_text("utf-8")


@cache
def table() -> dict[str, Division]:
    text = _cpca_resource("adcodes.csv")
    out: dict[str, Division] = {}
    for row in csv.DictReader(text.splitlines()):
        lon, lat = row["longitude"], row["latitude"]
        code = row["adcode"]
        out[code] = Division(
            code=code,
            name=row["name"],
            level=_level(code),
            longitude=float(lon) if lon else None,
            latitude=float(lat) if lat else None,
        )
    return out


def get(code: str) -> Division | None:
    return table().get(code)


def require(code: str) -> str:
    """Return `code` if it is a known 12-digit division, else raise ValueError saying why."""
    if len(code) != 12 or not code.isdigit():
        raise ValueError(f"{code!r} is not a 12-digit administrative division code")
    if code not in table():
        raise ValueError(f"{code} is not a known administrative division (GB/T 2260)")
    return code


def level_of(code: str) -> str:
    return table()[require(code)].level


def name_of(code: str) -> str:
    return table()[require(code)].name


_AREA_DIGITS = {"province": 2, "city": 4, "district": 6}


def within(code: str, area: str) -> bool:
    """Whether division `code` is `area` itself or lies inside it (by the GB/T 2260 prefix)."""
    digits = _AREA_DIGITS[_level(area)]
    return code[:digits] == area[:digits]


def children_of(code: str) -> list[Division]:
    """Direct children, skipping the placeholder 市辖区 entries that have no centroid."""
    return sorted(
        (d for d in table().values() if d.parent_code == code and d.longitude is not None),
        key=lambda d: d.code,
    )


@cache
def ethnic_groups() -> tuple[str, ...]:
    """The 56 ethnic groups of GB/T 3304, as `cpca` ships them."""
    text = _cpca_resource("56_nations.csv")
    return tuple(line.strip() for line in text.splitlines() if line.strip())
