"""Geospatial registry rows: the division tree and addresses / points of interest."""

from __future__ import annotations

import numpy as np
import pyarrow as pa

from basebases.synthetic import vocab
from basebases.synthetic._common import DEFAULT_CITY, Place, build_table, places, rng_for, weighted
from exchange.core import divisions as gb2260

KINDS = ("address", "school", "hospital", "service_centre", "park", "station")
_KIND_SHARES = (0.7, 0.08, 0.05, 0.04, 0.07, 0.06)
_SCHOOLS = ("小学", "中学", "实验学校", "幼儿园", "高级中学")
_NUMERALS = "一二三四五六七八九"


def divisions(city_code: str = DEFAULT_CITY) -> pa.Table:
    """The province, the city and its districts, each with its parent and centroid."""
    city = gb2260.get(gb2260.require(city_code))
    if city is None or city.level != "city":
        raise ValueError(f"{city_code} is not a city-level division")
    province = gb2260.get(city.parent_code or "")
    chain = [d for d in (province, city) if d is not None]
    rows = [d for d in (*chain, *gb2260.children_of(city_code)) if d.longitude is not None]
    return build_table(
        "geo_division",
        {
            "code": pa.array([d.code for d in rows], pa.string()),
            "name": pa.array([d.name for d in rows], pa.string()),
            "level": pa.array([d.level for d in rows], pa.string()),
            "parent_code": pa.array([d.parent_code for d in rows], pa.string()),
            "longitude": pa.array([d.longitude for d in rows], pa.float64()),
            "latitude": pa.array([d.latitude for d in rows], pa.float64()),
        },
    )


def _spread(ps: tuple[Place, ...]) -> np.ndarray:
    """Degrees of scatter around each centroid: a quarter of the way to the nearest other
    centroid, so that compact urban districts stay compact and rural counties spread out."""
    xy = np.array([(p.longitude, p.latitude) for p in ps])
    if len(ps) == 1:
        return np.array([0.05])
    gaps = np.linalg.norm(xy[:, None, :] - xy[None, :, :], axis=2)
    np.fill_diagonal(gaps, np.inf)
    return np.clip(gaps.min(axis=1) / 4, 0.005, 0.15)


def addresses(n: int, *, seed: int, city_code: str = DEFAULT_CITY) -> pa.Table:
    """`n` standard addresses and points of interest scattered around district centroids."""
    rng = rng_for(seed, "geo_address")
    ps = places(city_code)
    district = weighted(rng, [p.population for p in ps], n)
    kind = weighted(rng, _KIND_SHARES, n)
    spread = _spread(ps)[district]
    lon = np.array([p.longitude for p in ps])[district] + rng.normal(0, 1, n) * spread
    lat = np.array([p.latitude for p in ps])[district] + rng.normal(0, 1, n) * spread
    names = [_name(rng, ps[d], KINDS[k]) for d, k in zip(district, kind, strict=True)]
    return build_table(
        "geo_address",
        {
            "address_id": pa.array(
                [f"{ps[d].code[:6]}{i + 1:010d}" for i, d in enumerate(district)], pa.string()
            ),
            "kind": pa.array([KINDS[k] for k in kind], pa.string()),
            "name": pa.array(names, pa.string()),
            "division": pa.array([ps[d].code for d in district], pa.string()),
            "longitude": pa.array(np.round(np.clip(lon, 73, 136), 6)),
            "latitude": pa.array(np.round(np.clip(lat, 3, 54), 6)),
        },
    )


def _name(rng: np.random.Generator, place: Place, kind: str) -> str:
    def one(values: tuple[str, ...] | str) -> str:
        return values[int(rng.integers(0, len(values)))]

    stem = one(vocab.place_stems(place.code))
    local = f"{place.city}{place.name}" if place.is_urban else place.name
    if kind == "address":
        street = one(vocab.street_names(place.code))
        return f"{place.province}{local}{street}{rng.integers(1, 600)}号"
    if kind == "school":
        return f"{local}{stem}{one(_SCHOOLS)}"
    if kind == "hospital":
        return one(
            (
                f"{local}第{one(_NUMERALS)}人民医院",
                f"{local}中医院",
                f"{local}{stem}街道社区卫生服务中心",
                f"{local}妇幼保健院",
            )
        )
    if kind == "service_centre":
        return one((f"{local}政务服务中心", f"{local}{stem}街道便民服务中心"))
    if kind == "park":
        return f"{stem}{one(('公园', '湿地公园', '体育公园', '口袋公园'))}"
    return one((f"{stem}地铁站", f"{stem}公交站", f"{place.short}汽车客运站"))
