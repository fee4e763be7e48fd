"""Legal persons: GB 32100 credit codes, names by entity type, representatives from `people`."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import TypeVar

import numpy as np
import pyarrow as pa

from basebases.synthetic import codes, vocab
from basebases.synthetic._common import (
    AS_OF,
    AS_OF_DAY,
    DEFAULT_CITY,
    Place,
    add_years,
    birth_days,
    build_table,
    dates,
    day_number,
    draw,
    fixed_width_strings,
    living_adults,
    places,
    rng_for,
    weighted,
)

ENTITY_SHARES: dict[str, float] = {
    "company": 0.55,
    "individual_business": 0.30,
    "partnership": 0.04,
    "sole_proprietorship": 0.03,
    "public_institution": 0.04,
    "social_organization": 0.04,
}
ENTITY_TYPES = tuple(ENTITY_SHARES)
# GB 32100 registration authority + entity type: 9x by market regulation (1 enterprise,
# 2 individual business), 12 by the establishment office (public institution), 5x by civil
# affairs (1 association, 2 private non-enterprise unit, 3 foundation).
_SOCIAL_KINDS = ("51", "52", "53")
_SOCIAL_SHARES = (0.6, 0.35, 0.05)
# Share registered with the city's own authority rather than the district's.
_CITY_LEVEL = {"company": 0.2, "partnership": 0.3, "public_institution": 0.4}
_FOUNDED = {  # first year, growth per year of registrations
    "company": (1992, 1.10),
    "individual_business": (2000, 1.08),
    "partnership": (2007, 1.15),
    "sole_proprietorship": (2000, 1.03),
    "public_institution": (1950, 1.0),
    "social_organization": (1990, 1.04),
}
_CAPITAL = {  # median 万元, spread of the log
    "company": (200.0, 1.3),
    "individual_business": (5.0, 1.0),
    "partnership": (1000.0, 1.2),
    "sole_proprietorship": (20.0, 1.0),
    "public_institution": (300.0, 1.2),
    "social_organization": (10.0, 0.8),
}
# The organisation code part of credit codes issued since the reform of October 2015 starts
# with MA; older ones kept the organisation code the entity already had.
_REFORM_DAY = day_number(dt.date(2015, 10, 1))
_OLD_ORG_FIRST = {"public_institution": "4", "social_organization": "5"}

_COMPANY_FORMS = ("有限公司", "股份有限公司", "有限责任公司")
_COMPANY_FORM_SHARES = (0.85, 0.1, 0.05)
_SOLE_FORMS = ("商行", "经营部", "工作室", "厂")
_STATUSES = ("active", "cancelled", "revoked")
T = TypeVar("T")


def legal_persons(
    n: int, *, seed: int, people: pa.Table, city_code: str = DEFAULT_CITY
) -> pa.Table:
    """`n` legal persons registered in `city_code`, their representatives taken from `people`."""
    rng = rng_for(seed, "legal_person")
    ps = places(city_code)
    adults = living_adults(people)
    kind = weighted(rng, list(ENTITY_SHARES.values()), n)
    # Enterprises cluster where the economy is, not where people sleep.
    weights = np.array([p.population * p.gdp_per_capita for p in ps])
    district = weighted(rng, weights, n)
    age = (AS_OF_DAY - birth_days(people)[adults]) / 365.2425
    # Representatives are mostly of working age, rarely very young or very old.
    rep = adults[weighted(rng, np.where((age >= 25) & (age < 65), 1.0, 0.15), n)]
    birth = birth_days(people)[rep]
    established = _established(rng, kind, birth)

    prefix = _code_prefixes(rng, kind, district, ps, city_code)
    uscc = _credit_codes(rng, prefix, kind, established)
    status = np.where(
        kind == ENTITY_TYPES.index("public_institution"),
        0,
        weighted(rng, (0.85, 0.11, 0.04), n),
    )
    capital = np.array([_CAPITAL[ENTITY_TYPES[k]] for k in kind]).reshape(-1, 2)
    raw = capital[:, 0] * np.exp(rng.normal(0, capital[:, 1]))
    # Registered capital is a round figure: two significant digits (50, 120, 3800 万元).
    step = 10.0 ** (np.floor(np.log10(raw)) - 1)
    money = np.round(np.round(raw / step) * step, 2)

    rep_names = people["name"].take(pa.array(rep)).to_pylist()
    named = _Namer(rng, ps, city_code)
    named_rows = [
        named(ENTITY_TYPES[k], d, p[:2], rep_name)
        for k, d, p, rep_name in zip(kind, district, prefix, rep_names, strict=True)
    ]
    return build_table(
        "legal_person",
        {
            "uscc": uscc,
            "name": pa.array([name for name, _ in named_rows], pa.string()),
            "entity_type": pa.array([ENTITY_TYPES[k] for k in kind], pa.string()),
            "legal_rep_id_number": people["id_number"].take(pa.array(rep)),
            "legal_rep_name": pa.array(rep_names, pa.string()),
            "registered_capital": pa.array(np.maximum(money, 0.5)),
            "established_on": dates(established),
            "status": pa.array([_STATUSES[s] for s in status], pa.string()),
            "address": pa.array([named.address(d) for d in district], pa.string()),
            "division": pa.array([ps[d].code for d in district], pa.string()),
            "business_scope": pa.array([scope for _, scope in named_rows], pa.string()),
        },
    )


def _established(rng: np.random.Generator, kind: np.ndarray, birth: np.ndarray) -> np.ndarray:
    out = np.empty(len(kind), dtype=np.int64)
    for k, entity in enumerate(ENTITY_TYPES):
        rows = np.flatnonzero(kind == k)
        first, growth = _FOUNDED[entity]
        years = np.arange(first, AS_OF.year + 1)
        year = years[weighted(rng, growth ** (years - first), len(rows))]
        start = (year - 1970).astype("datetime64[Y]").astype("datetime64[D]").astype(np.int64)
        out[rows] = start + rng.integers(0, 365, len(rows))
    # Founders of businesses run them: the business cannot predate the founder's adulthood.
    founders = ("individual_business", "partnership", "sole_proprietorship")
    founded_by_rep = np.isin(kind, [ENTITY_TYPES.index(e) for e in founders])
    adulthood = add_years(birth, 18)
    out = np.where(founded_by_rep, np.maximum(out, adulthood), out)
    return np.minimum(out, AS_OF_DAY)


def _code_prefixes(
    rng: np.random.Generator,
    kind: np.ndarray,
    district: np.ndarray,
    ps: tuple[Place, ...],
    city_code: str,
) -> list[str]:
    """Characters 1-8: authority, entity type and the registering authority's region."""
    out = []
    city_share = np.array([_CITY_LEVEL.get(e, 0.0) for e in ENTITY_TYPES])[kind]
    at_city = rng.random(len(kind)) < city_share
    social = weighted(rng, _SOCIAL_SHARES, len(kind))
    for k, d, c, s in zip(kind, district, at_city, social, strict=True):
        entity = ENTITY_TYPES[k]
        head = {"individual_business": "92", "public_institution": "12"}.get(entity, "91")
        if entity == "social_organization":
            head = _SOCIAL_KINDS[s]
        out.append(head + (city_code if c else ps[d].code)[:6])
    return out


def _credit_codes(
    rng: np.random.Generator, prefix: list[str], kind: np.ndarray, established: np.ndarray
) -> pa.Array:
    n = len(prefix)
    alphabet = np.frombuffer(codes.USCC_ALPHABET.encode(), dtype=np.uint8)
    head = np.frombuffer("".join(prefix).encode(), dtype=np.uint8).reshape(n, 8)
    new_style = (established >= _REFORM_DAY) | (kind == ENTITY_TYPES.index("individual_business"))
    first = np.array([_OLD_ORG_FIRST.get(ENTITY_TYPES[k], "7") for k in kind], dtype="S1").view(
        np.uint8
    )
    org = np.empty((n, 8), dtype=np.uint8)
    seen: set[bytes] = set()
    todo = np.arange(n)
    for _ in range(50):
        digits_only = rng.integers(ord("0"), ord("9") + 1, (len(todo), 8), dtype=np.uint8)
        mixed = alphabet[rng.integers(0, len(alphabet), (len(todo), 8))]
        body = np.where(new_style[todo, None], mixed, digits_only)
        body[:, 0] = np.where(new_style[todo], ord("M"), first[todo])
        body[:, 1] = np.where(new_style[todo], ord("A"), body[:, 1])
        org[todo] = body
        chars = np.concatenate([head, org, codes.org_check(org)[:, None]], axis=1)
        keys = [row.tobytes() for row in chars[todo]]
        again = []
        for i, key in zip(todo, keys, strict=True):
            if key in seen:
                again.append(i)
            else:
                seen.add(key)
        if not again:
            return fixed_width_strings(
                np.concatenate([chars, codes.uscc_check(chars)[:, None]], axis=1)
            )
        todo = np.array(again)
    raise ValueError("could not draw unique credit codes")


class _Namer:
    """Names, scopes and addresses; names stay unique within the table, as a registry has them."""

    _NUMERALS = "一二三四五六七八九"

    def __init__(self, rng: np.random.Generator, ps: tuple[Place, ...], city_code: str) -> None:
        self.rng = rng
        self.ps = ps
        self.city = ps[0].city
        self.city_short = self.city.removesuffix("市")
        self.city_region = city_code[:6]
        self.seen: set[str] = set()

    def __call__(self, entity: str, d: int, head: str, rep_name: str) -> tuple[str, str]:
        place = self.ps[d]
        # The authority a code was issued by also names the body: 杭州市图书馆 at city level.
        local = self.city if head[2:] == self.city_region else self._local(place)
        for attempt in range(100):
            # Later attempts lengthen the name to get past taken ones.
            bump = "".join(self._one(vocab.TRADE_CHARS) for _ in range(attempt // 20))
            name, scope = self._make(entity, head[:2], place, local, bump, rep_name)
            if name not in self.seen:
                self.seen.add(name)
                return name, scope
        raise ValueError("could not draw unique legal person names; lower n")

    def address(self, d: int) -> str:
        place = self.ps[d]
        street = self._one(vocab.street_names(place.code))
        where = f"{place.province}{place.city}{place.name}{street}{self.rng.integers(1, 600)}号"
        if self.rng.random() < 0.6:
            floor = int(self.rng.integers(1, 25))
            where += f"{self.rng.integers(1, 12)}幢{floor}{self.rng.integers(1, 20):02d}室"
        return where

    def _make(
        self, entity: str, head: str, place: Place, local: str, bump: str, rep_name: str
    ) -> tuple[str, str]:
        stem = self._one(vocab.place_stems(place.code)) + bump
        trade = self._trade() + bump
        if entity == "company":
            industry, scope = self._one(vocab.INDUSTRIES)
            form = _COMPANY_FORMS[draw(self.rng, _COMPANY_FORM_SHARES)]
            return f"{self.city_short}{trade}{industry}{form}", scope
        if entity == "partnership":
            industry, scope = self._one(vocab.PARTNERSHIPS)
            return f"{self.city_short}{trade}{industry}合伙企业（有限合伙）", scope
        if entity == "sole_proprietorship":
            industry, scope = self._one(vocab.INDUSTRIES)
            return f"{self._local(place)}{trade}{industry}{self._one(_SOLE_FORMS)}", scope
        if entity == "individual_business":
            shop, scope = self._one(vocab.SHOP_KINDS)
            owner = f"{rep_name[0]}记" if self.rng.random() < 0.4 else stem[:2]
            return f"{self._local(place)}{owner}{bump}{shop}", scope
        if entity == "public_institution":
            template, scope = self._one(vocab.PUBLIC_INSTITUTIONS)
            number = self._NUMERALS[int(self.rng.integers(0, len(self._NUMERALS)))]
            item = template.format(stem=stem, num=number)
            return f"{local}{item}", f"宗旨和业务范围：{scope}"
        template, scope = self._one(vocab.SOCIAL_ORGANIZATIONS[head])
        industry = self._one(vocab.INDUSTRIES)[0]
        item = template.format(stem=stem, trade=trade, industry=industry)
        return f"{local}{item}", f"业务范围：{scope}"

    def _local(self, place: Place) -> str:
        return f"{place.city}{place.name}" if place.is_urban else place.name

    def _trade(self) -> str:
        """A trade name (字号): Faker's, or two auspicious characters."""
        if self.rng.random() < 0.5:
            return self._one(vocab.TRADE_NAMES)
        a, b = self.rng.choice(len(vocab.TRADE_CHARS), size=2, replace=False)
        return vocab.TRADE_CHARS[a] + vocab.TRADE_CHARS[b]

    def _one(self, values: Sequence[T]) -> T:
        return values[int(self.rng.integers(0, len(values)))]
