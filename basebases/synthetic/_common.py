"""Shared machinery of the generators: seeded randomness, schemas, districts, Arrow helpers."""

from __future__ import annotations

import datetime as dt
import zlib
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from exchange.core import divisions
from exchange.core.resource_schema import SCHEMAS_DIR, ResourceSchema, load_all

# Every generated date lies on or before this day. A fixed day rather than today keeps the
# same seed giving the same tables whenever it runs.
AS_OF = dt.date(2024, 12, 31)
EPOCH = dt.date(1970, 1, 1)
AS_OF_DAY = (AS_OF - EPOCH).days

DEFAULT_CITY = "330100000000"


def rng_for(seed: int, salt: str) -> np.random.Generator:
    """An independent stream per (seed, table), so adding a column to one table leaves the
    others unchanged."""
    return np.random.default_rng([seed % 2**64, zlib.crc32(salt.encode())])


@cache
def schema(code: str) -> ResourceSchema:
    return load_all(SCHEMAS_DIR)[code]


def build_table(code: str, columns: dict[str, pa.Array]) -> pa.Table:
    target = schema(code).arrow_schema()
    return pa.Table.from_arrays([columns[f.name] for f in target], schema=target)


def fixed_width_strings(chars: np.ndarray) -> pa.Array:
    """An Arrow string array from an (n, width) uint8 array of ASCII codes, without Python
    objects: a million ID numbers this way take milliseconds."""
    n, width = chars.shape
    data = np.ascontiguousarray(chars, dtype=np.uint8)
    offsets = np.arange(0, (n + 1) * width, width, dtype=np.int32)
    return pa.StringArray.from_buffers(n, pa.py_buffer(offsets), pa.py_buffer(data.tobytes()))


def digits(values: np.ndarray, width: int) -> np.ndarray:
    """(n, width) ASCII digits of non-negative integers, zero-padded."""
    powers = 10 ** np.arange(width - 1, -1, -1, dtype=np.int64)
    return (values.astype(np.int64)[:, None] // powers % 10 + ord("0")).astype(np.uint8)


def concat(*parts: pa.Array | str) -> pa.Array:
    """Element-wise string concatenation; plain strings are repeated on every row."""
    return pc.binary_join_element_wise(*parts, "")


def pick(values: Sequence[str], index: np.ndarray) -> pa.Array:
    return pa.array(values, pa.string()).take(pa.array(index))


def dates(days: np.ndarray) -> pa.Array:
    """date32 from days since 1970-01-01."""
    return pa.array(days.astype(np.int32), pa.date32())


def day_number(day: dt.date) -> int:
    return (day - EPOCH).days


def ymd(days: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    d = days.astype("datetime64[D]")
    month_start = d.astype("datetime64[M]")
    years = d.astype("datetime64[Y]").astype(np.int64) + 1970
    months = month_start.astype(np.int64) % 12 + 1
    return years, months, (d - month_start.astype("datetime64[D]")).astype(np.int64) + 1


def add_years(days: np.ndarray, years: np.ndarray | int) -> np.ndarray:
    """Same month and day `years` later (29 February becomes 28 February)."""
    _, _, d = ymd(days)
    month = days.astype("datetime64[D]").astype("datetime64[M]")
    moved = (month + np.asarray(years, dtype=np.int64) * 12).astype("datetime64[D]")
    day = np.where((moved.astype("datetime64[M]").astype(np.int64) % 12 == 1) & (d == 29), 28, d)
    return moved.astype(np.int64) + day - 1


def years_after(day: int, years: int) -> int:
    """`add_years` for one day, without numpy's per-call overhead."""
    date = EPOCH + dt.timedelta(days=day)
    try:
        moved = date.replace(year=date.year + years)
    except ValueError:  # 29 February in a common year
        moved = date.replace(year=date.year + years, day=28)
    return (moved - EPOCH).days


def draw(rng: np.random.Generator, weights: Sequence[float]) -> int:
    """One weighted index; `weighted` for a single draw, several times faster."""
    total = np.cumsum(weights)
    return int(np.searchsorted(total, rng.random() * total[-1], side="right"))


def column_days(table: pa.Table, column: str) -> np.ndarray:
    """A date column as days since 1970-01-01."""
    return table[column].to_numpy().astype("datetime64[D]").astype(np.int64)


def birth_days(people: pa.Table) -> np.ndarray:
    return column_days(people, "birth_date")


def living_adults(people: pa.Table, *, age: int = 18) -> np.ndarray:
    """Row indices of living people at least `age` years old on AS_OF."""
    adult = birth_days(people) <= add_years(np.array([AS_OF_DAY]), -age)[0]
    living = pc.equal(people["status"], "living").to_numpy(zero_copy_only=False)
    found = np.flatnonzero(adult & living)
    if len(found) == 0:
        raise ValueError(f"`people` has no living person aged {age} or more")
    return found


def weighted(
    rng: np.random.Generator, weights: Sequence[float] | np.ndarray, size: int
) -> np.ndarray:
    p = np.asarray(weights, dtype=np.float64)
    return rng.choice(len(p), size=size, p=p / p.sum())


@dataclass(frozen=True, slots=True)
class Place:
    """A district with what the generators need to name things in it."""

    code: str
    name: str
    province: str
    city: str
    longitude: float
    latitude: float
    population: float  # 万人 in 2019, the base of the macro series and of sampling weights
    gdp_per_capita: float  # 万元 in 2019

    @property
    def short(self) -> str:
        """西湖区 -> 西湖; 桐庐县 -> 桐庐 (the form used in 杭州市公安局西湖分局)."""
        return self.name[:-1] if len(self.name) > 2 else self.name

    @property
    def is_urban(self) -> bool:
        return self.name.endswith("区")

    def office(self, department: str) -> str:
        """A district department's name: 杭州市西湖区民政局, but 桐庐县民政局."""
        return f"{self.city if self.is_urban else ''}{self.name}{department}"

    @property
    def police(self) -> str:
        return f"{self.city}公安局{self.short}分局" if self.is_urban else f"{self.name}公安局"


# Rough figures for Hangzhou's districts since the 2021 re-zoning (2020 census residents in 万人,
# GDP per resident in 万元, rounded). They only set magnitudes; the series built on them are
# synthetic.
_KNOWN: dict[str, tuple[float, float]] = {
    "330102000000": (132.0, 17.0),
    "330105000000": (118.0, 11.0),
    "330106000000": (111.0, 20.0),
    "330108000000": (50.0, 42.0),
    "330109000000": (201.0, 11.0),
    "330110000000": (123.0, 24.0),
    "330111000000": (83.0, 10.0),
    "330112000000": (64.0, 9.0),
    "330113000000": (118.0, 6.5),
    "330114000000": (77.0, 11.0),
    "330122000000": (45.0, 9.0),
    "330127000000": (33.0, 7.0),
    "330182000000": (44.0, 9.0),
}


@cache
def places(city_code: str) -> tuple[Place, ...]:
    """The districts of `city_code` that have a centroid, in code order."""
    city = divisions.get(divisions.require(city_code))
    if city is None or city.level != "city":
        raise ValueError(f"{city_code} is not a city-level division")
    province = divisions.name_of(city_code[:2] + "0" * 10)
    out = []
    for d in divisions.children_of(city_code):
        if d.longitude is None or d.latitude is None:
            continue
        known = _KNOWN.get(d.code)
        if known is None:
            # An unknown district still gets stable, plausible figures derived from its code.
            r = np.random.default_rng(int(d.code))
            known = (float(r.uniform(25, 150)), float(r.uniform(5, 15)))
        out.append(Place(d.code, d.name, province, city.name, d.longitude, d.latitude, *known))
    if not out:
        raise ValueError(f"{city_code} has no districts with a centroid to place data in")
    return tuple(out)


def population_weights(ps: Sequence[Place]) -> np.ndarray:
    w = np.array([p.population for p in ps])
    return w / w.sum()


def places_of(*tables: pa.Table) -> tuple[tuple[Place, ...], str]:
    """The districts of the city the generated `tables` belong to (from their first division)."""
    for table in tables:
        for column in ("division", "household_division"):
            if column in table.column_names and table.num_rows:
                city_code = str(table[column][0])[:4] + "0" * 8
                return places(city_code), city_code
    raise ValueError("cannot tell which city the tables belong to: they are empty")
