"""Macroeconomic series for a city and its districts that add up the way statistics do.

District values sum to the city's, quarters to their year (GDP) and months to their year
(retail sales); growth follows the shape of 2019-2024 (a 2020 dip, a 2021 rebound).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import numpy as np
import pyarrow as pa

from basebases.synthetic._common import DEFAULT_CITY, Place, build_table, places, rng_for

_BASE_YEAR = 2019  # the year Place.population and Place.gdp_per_capita describe
_GDP_GROWTH = {2020: 0.04, 2021: 0.11, 2022: 0.035, 2023: 0.06, 2024: 0.05}
_RETAIL_GROWTH = {2020: -0.04, 2021: 0.11, 2022: 0.02, 2023: 0.055, 2024: 0.035}
_CPI = {2019: 102.9, 2020: 102.2, 2021: 101.4, 2022: 102.1, 2023: 100.3, 2024: 100.4}
_DEFAULT_GROWTH, _DEFAULT_CPI = 0.07, 102.0
_QUARTERS = (0.225, 0.245, 0.25, 0.28)
_QUARTERS_2020 = (0.2, 0.25, 0.26, 0.29)  # the first quarter of 2020 stood still
_MONTHS = (0.088, 0.072, 0.08, 0.078, 0.083, 0.085, 0.079, 0.08, 0.083, 0.089, 0.09, 0.093)
UNITS = {"GDP": "亿元", "POP": "万人", "CPI": "上年=100", "RETAIL": "亿元"}
_MONTHLY_CPI_UNIT = "上年同月=100"


def _level(rates: dict[int, float], year: int) -> float:
    """Cumulative growth from the base year to `year`."""
    if year >= _BASE_YEAR:
        steps = range(_BASE_YEAR + 1, year + 1)
        return float(np.prod([1 + rates.get(y, _DEFAULT_GROWTH) for y in steps]))
    steps = range(year + 1, _BASE_YEAR + 1)
    return 1 / float(np.prod([1 + rates.get(y, _DEFAULT_GROWTH) for y in steps]))


def _split(rng: np.random.Generator, total: float, shares: Sequence[float]) -> list[float]:
    s = np.array(shares) * rng.normal(1, 0.02, len(shares))
    return [round(v, 2) for v in total * s / s.sum()]


def macro_indicators(
    *, seed: int, city_code: str = DEFAULT_CITY, years: Iterable[int] = range(2019, 2025)
) -> pa.Table:
    """GDP (yearly, quarterly), POP (yearly), RETAIL (yearly, monthly) and CPI (yearly; monthly
    for the city) of `city_code` and each district."""
    rng = rng_for(seed, "macro_indicator")
    ps = places(city_code)
    year_list = sorted(set(years))
    city_name = ps[0].city
    rows: list[tuple[str, str, str, float, str, str]] = []
    totals: dict[tuple[str, str], float] = {}

    def add(indicator: str, place: Place | None, period: str, value: float) -> None:
        code = place.code if place else city_code
        source = place.office("统计局") if place else f"{city_name}统计局"
        unit = _MONTHLY_CPI_UNIT if indicator == "CPI" and "-" in period else UNITS[indicator]
        rows.append((indicator, code, period, round(value, 2), unit, source))
        if place and indicator != "CPI":
            totals[indicator, period] = totals.get((indicator, period), 0.0) + round(value, 2)

    for place in ps:
        pop_growth = float(np.clip(rng.normal(0.015, 0.01), -0.01, 0.05))
        drift = float(rng.normal(0, 0.015))  # this district grows faster or slower than the city
        retail_ratio = float(rng.uniform(0.3, 0.55))
        cpi_offset = float(rng.normal(0, 0.3))
        for year in year_list:
            t = year - _BASE_YEAR
            add("POP", place, str(year), place.population * (1 + pop_growth) ** t)
            gdp = place.population * place.gdp_per_capita * _level(_GDP_GROWTH, year)
            gdp *= (1 + drift) ** t
            quarters = _split(rng, gdp, _QUARTERS_2020 if year == 2020 else _QUARTERS)
            for q, value in enumerate(quarters, start=1):
                add("GDP", place, f"{year}Q{q}", value)
            add("GDP", place, str(year), sum(quarters))
            retail = gdp * retail_ratio * _level(_RETAIL_GROWTH, year) / _level(_GDP_GROWTH, year)
            months = _split(rng, retail, _MONTHS)
            for m, value in enumerate(months, start=1):
                add("RETAIL", place, f"{year}-{m:02d}", value)
            add("RETAIL", place, str(year), sum(months))
            add("CPI", place, str(year), round(_CPI.get(year, _DEFAULT_CPI) + cpi_offset, 1))

    for (indicator, period), value in totals.items():
        add(indicator, None, period, value)
    for year in year_list:
        annual = _CPI.get(year, _DEFAULT_CPI)
        add("CPI", None, str(year), annual)
        for m, value in enumerate(annual + rng.normal(0, 0.4, 12), start=1):
            add("CPI", None, f"{year}-{m:02d}", round(float(value), 1))

    rows.sort(key=lambda r: (r[0], r[1], r[2]))
    names = ("indicator", "division", "period", "value", "unit", "source")
    return build_table(
        "macro_indicator",
        {
            name: pa.array([r[i] for r in rows], pa.float64() if name == "value" else pa.string())
            for i, name in enumerate(names)
        },
    )
