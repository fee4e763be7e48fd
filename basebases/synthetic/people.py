"""Residents (population): vectorised end to end, a million rows in a few seconds."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from basebases.synthetic import codes, vocab
from basebases.synthetic._common import (
    AS_OF,
    AS_OF_DAY,
    DEFAULT_CITY,
    Place,
    build_table,
    concat,
    dates,
    digits,
    fixed_width_strings,
    pick,
    places,
    population_weights,
    rng_for,
    weighted,
    ymd,
)

MAX_AGE = 95
# Share of residents per five-year age band 0-4 ... 90-94, then age 95 alone: the shape of a
# large Chinese city (few children, a bulge at 25-39 from migration, an ageing tail).
_AGE_BANDS = (5.0, 5.5, 4.8, 4.2, 6.0, 8.5, 10.0, 8.8, 7.5, 8.0, 8.2, 7.0, 5.5, 4.8, 3.3, 2.1)
_AGE_BANDS_OLD = (1.4, 0.8, 0.3)
_MALE_SHARE = 0.515
_MOVED_OUT_SHARE = 0.025
_PHONE_FROM_AGE = 10
_DAYS_PER_YEAR = 365.2425


def _age_weights() -> np.ndarray:
    per_year = [w / 5 for w in (*_AGE_BANDS, *_AGE_BANDS_OLD) for _ in range(5)]
    per_year.append(_AGE_BANDS_OLD[-1] / 5 / 4)
    return np.array(per_year[: MAX_AGE + 1])


def _birth_days(rng: np.random.Generator, n: int) -> np.ndarray:
    ages = weighted(rng, _age_weights(), n) + rng.random(n)
    return AS_OF_DAY - np.floor(ages * _DAYS_PER_YEAR).astype(np.int64)


def _id_regions(
    rng: np.random.Generator, ps: tuple[Place, ...], home: np.ndarray, birth: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """The 6-digit region code each ID number starts with, and the birth days that go with it.

    Usually the household district's. But stdnum (and so the hub's quality gate) rejects a
    region code for people born before the code existed (西湖区 330106 dates from 1983), so
    those people get the code of a district that existed in their birth year, as if they had
    registered there first and moved later. In a year when none of the city's districts
    existed the city's own code stands in; births in a year nothing covers are redrawn.
    """
    first = AS_OF.year - MAX_AGE - 1
    regions = [p.code[:6] for p in ps] + [ps[0].code[:4] + "00"]
    accepted = np.stack([codes.ric_accepted_years(r, first, AS_OF.year) for r in regions])
    if not accepted.any():
        raise ValueError(f"stdnum.cn.ric knows none of the region codes of {ps[0].city}")
    covered = np.asarray(accepted.any(axis=0))
    birth = birth.copy()
    for _ in range(100):
        years = ymd(birth)[0] - first
        uncovered = ~covered[years]
        if not uncovered.any():
            break
        birth[uncovered] = _birth_days(rng, int(uncovered.sum()))
    else:
        raise ValueError(f"stdnum.cn.ric accepts {ps[0].city}'s region codes in too few years")
    region = home.copy()
    misfit = ~accepted[home, years]
    weights = population_weights(ps)
    for year in np.unique(years[misfit]):
        rows = np.flatnonzero(misfit & (years == year))
        candidates = np.flatnonzero(accepted[: len(ps), year])
        if len(candidates) == 0:
            region[rows] = len(ps)
            continue
        w = weights[candidates] / weights[candidates].sum()
        region[rows] = candidates[rng.choice(len(candidates), size=len(rows), p=w)]
    return np.array([int(r) for r in regions], dtype=np.int64)[region], birth


def _unique_sequences(rng: np.random.Generator, head: np.ndarray, male: np.ndarray) -> np.ndarray:
    """Order codes (digits 15-17: odd for men, even for women) unique within region+birth date."""
    seq = rng.integers(0, 500, size=len(head)) * 2 + male
    for _ in range(50):
        key = head * 1000 + seq
        _, first = np.unique(key, return_index=True)
        clash = np.ones(len(key), dtype=bool)
        clash[first] = False
        if not clash.any():
            return seq
        seq[clash] = rng.integers(0, 500, size=int(clash.sum())) * 2 + male[clash]
    raise ValueError("too many people for the available ID numbers; lower n")


def people(n: int, *, seed: int, city_code: str = DEFAULT_CITY) -> pa.Table:
    """`n` residents of `city_code` with valid, unique GB 11643 identity numbers."""
    rng = rng_for(seed, "population")
    ps = places(city_code)
    home = weighted(rng, population_weights(ps), n)
    region, birth = _id_regions(rng, ps, home, _birth_days(rng, n))
    male = (rng.random(n) < _MALE_SHARE).astype(np.int64)

    year, month, day = ymd(birth)
    head = region * 10**8 + year * 10**4 + month * 100 + day
    seq = _unique_sequences(rng, head, male)
    body = digits(head * 1000 + seq, 17)
    id_chars = np.concatenate([body, codes.ric_check(body)[:, None]], axis=1)

    surname = weighted(rng, vocab.SURNAME_WEIGHTS, n)
    given = np.where(
        male == 1,
        rng.integers(0, len(vocab.MALE_GIVEN), n),
        len(vocab.MALE_GIVEN) + rng.integers(0, len(vocab.FEMALE_GIVEN), n),
    )
    names = concat(
        pick(vocab.SURNAMES, surname), pick((*vocab.MALE_GIVEN, *vocab.FEMALE_GIVEN), given)
    )

    ethnic_names, ethnic_weights = vocab.ethnic_pool()
    age = (AS_OF_DAY - birth) / 365.2425
    phone = rng.choice(vocab.PHONE_PREFIXES, n) * 10**8 + rng.integers(0, 10**8, n)
    phones = pc.if_else(
        pa.array(age >= _PHONE_FROM_AGE), pc.cast(pa.array(phone), pa.string()), None
    )

    return build_table(
        "population",
        {
            "id_number": fixed_width_strings(id_chars),
            "name": names,
            "gender": pick(("2", "1"), male),
            "birth_date": dates(birth),
            "ethnicity": pick(ethnic_names, weighted(rng, ethnic_weights, n)),
            "household_division": pick([p.code for p in ps], home),
            "address": _home_addresses(rng, ps, home),
            "phone": phones,
            "status": pick(("living", "moved_out", "deceased"), _status(rng, age)),
        },
    )


def _status(rng: np.random.Generator, age: np.ndarray) -> np.ndarray:
    # Records of the dead stay in the registry, so the deceased share climbs with age.
    deceased = 0.002 + 0.3 * np.clip((age - 55) / 40, 0, 1) ** 3
    draw = rng.random(len(age))
    return np.where(draw < deceased, 2, np.where(draw < deceased + _MOVED_OUT_SHARE, 1, 0))


def _home_addresses(rng: np.random.Generator, ps: tuple[Place, ...], home: np.ndarray) -> pa.Array:
    """浙江省杭州市西湖区文华路128号3幢2单元501室, on a street of the household district."""
    n = len(home)
    prefixes = [p.province + p.city + p.name for p in ps]
    streets_per = [vocab.street_names(p.code) for p in ps]
    street_pool = [s for streets in streets_per for s in streets]
    offsets = np.cumsum([0, *(len(s) for s in streets_per)])[:-1]
    sizes = np.array([len(s) for s in streets_per])
    street = offsets[home] + (rng.random(n) * sizes[home]).astype(np.int64)
    floor = rng.integers(1, 19, n)
    room = floor * 100 + rng.integers(1, 5, n)

    def text(values: np.ndarray) -> pa.Array:
        return pc.cast(pa.array(values), pa.string())

    return concat(
        pick(prefixes, home),
        pick(street_pool, street),
        text(rng.integers(1, 400, n)),
        "号",
        text(rng.integers(1, 30, n)),
        "幢",
        text(rng.integers(1, 4, n)),
        "单元",
        text(room),
        "室",
    )
