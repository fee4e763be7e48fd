"""Plausible rows for any resource schema, read from its fields alone.

The registries have hand-written generators (people.py, legal_persons.py, ...); a catalogued
resource has only its schema. This module fills one from the field types, the rules the
quality gate derives (checksummed ID numbers and credit codes, an ID number's birth date and
gender, division codes), code lists, enums, patterns, bounds and references (values drawn from
existing keys the caller passes in), so that the rows pass the hub's own gate. Text fields get
Faker zh_CN names, phones and addresses placed in the row's district of the city. The same
seed gives the same table.
"""

from __future__ import annotations

import datetime as dt
import functools
import random
import re
import zlib
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np
import pyarrow as pa
import rstr
from faker import Faker
from stdnum.cn import ric, uscc

from basebases.synthetic import codes
from basebases.synthetic._common import AS_OF, DEFAULT_CITY, Place, places
from exchange.core import codelists, divisions
from exchange.core.resource_schema import FieldSpec, ResourceSchema

Keys = Mapping[str, Sequence[Any]]  # "resource.field" -> values that exist there

FIRST_DAY = dt.date(2015, 1, 1)  # undated facts (licences, events) fall after this day
_OLDEST_BIRTH, _YOUNGEST_BIRTH = 1940, 2020
_NULL_SHARE = 0.03  # of optional values left empty
_ATTEMPTS = 30
_LATER = re.compile(r"until|ends|next|expir|last_|_to$")
_COMPANY = re.compile("企业|单位|经营者|当事人|纳税人|业户|农场|公司")
_PLACE_CHARS = (
    "文新翠苑古荡留下转塘九堡彭埠笕桥石桥半山祥符湖墅小河米市闸弄口丁兰四季青紫阳望江南星"
)


class MissingKeys(ValueError):
    """A field references another resource and no existing keys were passed for it."""


class _Exhausted(Exception):
    """A unique field has no unused value left (its keys, pattern or bounds are used up)."""


def rows(
    schema: ResourceSchema,
    n: int,
    *,
    seed: int,
    keys: Keys | None = None,
    city_code: str = DEFAULT_CITY,
) -> pa.Table:
    """Up to `n` rows as a table with the schema's Arrow types: fewer only when the primary
    key or a unique field has (nearly) no distinct value left, or its referenced keys ran out."""
    if n < 0:
        raise ValueError(f"n must not be negative, not {n}")
    maker = _Maker(schema, seed, keys or {}, city_code)
    out: list[dict[str, Any]] = []
    seen_keys: set[tuple[Any, ...]] = set()
    for _ in range(n):
        for _attempt in range(_ATTEMPTS):
            try:
                row = maker.row()
            except _Exhausted:
                return pa.Table.from_pylist(out, schema=schema.arrow_schema())
            key = tuple(row[k] for k in schema.primary_key)
            if key not in seen_keys:
                seen_keys.add(key)
                maker.keep(row)
                out.append(row)
                break
    return pa.Table.from_pylist(out, schema=schema.arrow_schema())


class _Maker:
    def __init__(self, schema: ResourceSchema, seed: int, keys: Keys, city_code: str) -> None:
        self.schema = schema
        salt = zlib.crc32(schema.code.encode())
        self.rng = random.Random(seed * 1_000_003 + salt)
        self.fake = Faker("zh_CN")
        self.fake.seed_instance(seed * 1_000_003 + salt)
        self.xeger = rstr.Rstr(self.rng)
        self.places = places(city_code)
        self.weights = [p.population for p in self.places]
        self.city_code = city_code
        self.keys = keys
        self.used: dict[str, set[Any]] = {f.name: set() for f in schema.fields if f.unique}
        self.id_field = next((f.name for f in schema.fields if f.check == "cn_ric"), None)
        # A column that decides where another's reference points is drawn before it.
        deciding = {when[0] for f in schema.fields for when, _ in f.references if when}
        self.order = sorted(schema.fields, key=lambda f: f.name not in deciding)
        for f in schema.fields:
            for _, target in f.references:
                # Divisions are the city's own (the geospatial layer holds them); anything else
                # must exist where it points, so it cannot be made up.
                if target not in keys and f.check != "division":
                    raise MissingKeys(
                        f"{schema.code}.{f.name} references {target}: pass existing keys for it"
                    )

    def keep(self, row: dict[str, Any]) -> None:
        for name, used in self.used.items():
            used.add(row[name])

    def row(self) -> dict[str, Any]:
        place = self.rng.choices(self.places, self.weights)[0]
        row: dict[str, Any] = {}
        if self.id_field is not None:
            row[self.id_field] = self._unique(self.schema.field(self.id_field), place, row)
        for f in self.order:
            if f.name in row:
                continue
            optional = not f.required and f.check not in ("ric_birth_date", "ric_gender")
            if optional and self.rng.random() < _NULL_SHARE:
                row[f.name] = None
            else:
                row[f.name] = self._unique(f, place, row)
        return {f.name: row[f.name] for f in self.schema.fields}

    def _unique(self, f: FieldSpec, place: Place, row: dict[str, Any]) -> Any:
        used = self.used.get(f.name)
        pool = self._pool(f, row)
        if used is not None and f.check == "division":
            pool = [c for c in pool or [p.code for p in self.places] if c not in used]
            pool = [c for c in pool if divisions.within(str(c), self.city_code)]
        if used is not None and pool is not None:
            unused = [v for v in pool if v not in used]
            if not unused:
                raise _Exhausted(f.name)
            return self.rng.choice(unused)
        value = self._value(f, place, row)
        for _ in range(_ATTEMPTS):
            if used is None or value not in used:
                return value
            value = self._value(f, place, row)
        raise _Exhausted(f.name)  # the pattern or bounds leave (nearly) no value unused

    def _value(self, f: FieldSpec, place: Place, row: dict[str, Any]) -> Any:
        pool = self._pool(f, row)
        if f.check == "division" or f.code_list == "GB/T 2260":
            return self._division(pool, place)
        if pool is not None:
            return self.rng.choice(pool)
        special = self._checked(f, place, row)
        if special is not None:
            return special
        if f.enum:
            return self.rng.choice(f.enum)
        if f.code_list is not None:
            return self.rng.choice(sorted(codelists.get(f.code_list)))
        if f.pattern is not None and f.type == "string":
            return self.xeger.xeger(f.pattern)
        value = _BY_TYPE[f.type](self, f, place)
        return self._after_earlier(f, value, row) if _LATER.search(f.name) else value

    def _after_earlier(self, f: FieldSpec, value: Any, row: Mapping[str, Any]) -> Any:
        """An end (valid_until, ends_on, last_bus) comes after the row's start of that type."""
        kind = type(value)
        starts = [v for k, v in row.items() if type(v) is kind and not _LATER.search(k)]
        start = starts[-1] if starts else None  # the nearest before it: starts_on, not birth_date
        if start is None:
            return value
        if kind is dt.date:
            return start + dt.timedelta(days=self.rng.randint(30, 5 * 365))
        if kind is dt.time:
            return dt.time(min(23, start.hour + self.rng.randint(10, 17)), start.minute)
        return value

    def _pool(self, f: FieldSpec, row: Mapping[str, Any]) -> Sequence[Any] | None:
        for when, target in f.references:
            if when is not None and str(row.get(when[0])) != when[1]:
                continue  # the reference holds for other rows (another subject kind)
            if target in self.keys:
                return self._companies(target) if f.check == "cn_uscc" else self.keys[target]
        return None

    @functools.cache  # noqa: B019 (one maker per call of rows(); it dies with its cache)
    def _companies(self, target: str) -> Sequence[Any]:
        # An individual business's code (92...) names a person: leave those out.
        pool = self.keys[target]
        return [v for v in pool if not str(v).startswith("92")] or pool

    def _division(self, pool: Sequence[Any] | None, place: Place) -> str:
        if pool is None or place.code in pool:
            return place.code
        inside = [c for c in pool if divisions.within(str(c), self.city_code)]
        if not inside:
            raise MissingKeys(f"none of the division keys lies in {self.city_code}")
        return str(self.rng.choice(inside))

    def _checked(self, f: FieldSpec, place: Place, row: dict[str, Any]) -> Any:
        id_number = row.get(self.id_field) if self.id_field else None
        match f.check:
            case "cn_ric":
                return self._ric(place)
            case "cn_uscc":
                return self._uscc(place)
            case "ric_birth_date" if id_number:
                return dt.date(int(id_number[6:10]), int(id_number[10:12]), int(id_number[12:14]))
            case "ric_gender" if id_number:
                return "1" if int(id_number[16]) % 2 else "2"
        return None

    def _ric(self, place: Place) -> str:
        """A GB 11643 number whose region code stdnum accepts for its birth year (a district
        newer than the person gets the city's code, as people registered earlier have)."""
        year = self.rng.randint(_OLDEST_BIRTH, _YOUNGEST_BIRTH)
        region = place.code[:6]
        accepted = codes.ric_accepted_years(region, _OLDEST_BIRTH, _YOUNGEST_BIRTH)
        if not accepted[year - _OLDEST_BIRTH]:
            region = self.city_code[:6]
        born = dt.date(year, 1, 1) + dt.timedelta(days=self.rng.randrange(365))
        body = f"{region}{born:%Y%m%d}{self.rng.randrange(1000):03d}"
        return body + ric.calc_check_digit(body + "0")

    def _uscc(self, place: Place) -> str:
        """A GB 32100 code of a company (91) registered in the row's district; never 92 (an
        individual business, whose code the portal treats as personal data)."""
        alphabet = codes.USCC_ALPHABET
        org = "MA" + "".join(self.rng.choice(alphabet) for _ in range(6))
        org_chars = np.frombuffer(org.encode(), dtype=np.uint8)[None, :]
        org += chr(int(codes.org_check(org_chars)[0]))
        body = "91" + place.code[:6] + org
        return body + uscc.calc_check_digit(body)

    def _text(self, f: FieldSpec, place: Place) -> str:
        title = f.title
        match f.sensitivity.value:
            case "personal_name":
                return str(self.fake.name())
            case "contact":
                return str(self.fake.phone_number())
            case "address":
                return self._address(place)
        if "address" in f.name or title.endswith("地址"):
            return self._address(place)
        if _COMPANY.search(title):
            return str(self.fake.company())
        if "岗位" in title:
            return str(self.fake.job())
        kind = title.removesuffix("名称")
        kind = re.sub(r"（.*?）", "", kind).removeprefix("标准")
        words = "".join(self.rng.sample(_PLACE_CHARS, 2))
        return f"{place.short}{words}{kind if len(kind) <= 4 else ''}"

    def _address(self, place: Place) -> str:
        street = self.fake.street_name()
        return f"{place.province}{place.city}{place.name}{street}{self.rng.randint(1, 999)}号"


def _bounds(f: FieldSpec, low: float, high: float) -> tuple[float, float]:
    lo = low if f.minimum is None else float(f.minimum)
    hi = high if f.maximum is None else float(f.maximum)
    return (lo, hi) if lo <= hi else (hi, lo)


def _integer(m: _Maker, f: FieldSpec, place: Place) -> int:
    lo, hi = _bounds(f, 0, 1000)
    # Counts and sizes are skewed: most small, a few large, as real registers are.
    return int(lo + (hi - lo) * m.rng.random() ** 2.5)


def _number(m: _Maker, f: FieldSpec, place: Place) -> float:
    lo, hi = _bounds(f, 0, 10_000)
    centre = {"longitude": place.longitude, "latitude": place.latitude}.get(f.name)
    if centre is not None:
        return round(min(max(centre + m.rng.gauss(0, 0.03), lo), hi), 6)
    return round(lo + (hi - lo) * m.rng.random() ** 2, 2)


def _day(m: _Maker, f: FieldSpec, place: Place) -> dt.date:
    return FIRST_DAY + dt.timedelta(days=m.rng.randrange((AS_OF - FIRST_DAY).days + 1))


def _moment(m: _Maker, f: FieldSpec, place: Place) -> dt.datetime:
    day = _day(m, f, place)
    return dt.datetime(day.year, day.month, day.day, m.rng.randrange(24), tzinfo=dt.UTC)


def _time(m: _Maker, f: FieldSpec, place: Place) -> dt.time:
    first = re.search("first|start|open", f.name) is not None  # a service's day starts early
    return dt.time(m.rng.randint(5, 8) if first else m.rng.randint(5, 22), m.rng.choice((0, 30)))


def _year(m: _Maker, f: FieldSpec, place: Place) -> int:
    lo, hi = _bounds(f, FIRST_DAY.year, AS_OF.year)
    return m.rng.randint(int(lo), int(hi))


_BY_TYPE: dict[str, Callable[[_Maker, FieldSpec, Place], Any]] = {
    "string": _Maker._text,
    "integer": _integer,
    "number": _number,
    "boolean": lambda m, f, p: m.rng.random() < 0.5,
    "date": _day,
    "datetime": _moment,
    "time": _time,
    "year": _year,
}
