"""Synthetic but valid, mutually consistent data for the base registries.

Every function returns a `pyarrow.Table` whose schema is exactly the resource's
`arrow_schema()`. Identifiers pass the checks the hub's quality gate runs (GB 11643 identity
numbers and GB 32100 credit codes accepted by python-stdnum, current GB/T 2260 division
codes), and the tables refer to each other: representatives, credit subjects and material holders
are rows of the people and legal person tables. The same seed gives the same tables.
"""

from __future__ import annotations

import pyarrow as pa

from basebases.synthetic._common import AS_OF, DEFAULT_CITY
from basebases.synthetic.credit import credit_records
from basebases.synthetic.geo import addresses, divisions
from basebases.synthetic.legal_persons import legal_persons
from basebases.synthetic.macro import macro_indicators
from basebases.synthetic.materials import materials
from basebases.synthetic.people import people

__all__ = [
    "AS_OF",
    "DEMO_ROWS",
    "addresses",
    "credit_records",
    "demo_city",
    "divisions",
    "legal_persons",
    "macro_indicators",
    "materials",
    "people",
]

# Rows per resource at scale 1: a small demo city.
DEMO_ROWS = {
    "population": 2_000,
    "legal_person": 300,
    "credit_record": 500,
    "material": 1_000,
    "geo_address": 500,
}


def demo_city(
    scale: int = 1, *, seed: int = 1, city_code: str = DEFAULT_CITY
) -> dict[str, pa.Table]:
    """Every registry's table, keyed by resource code; `scale` multiplies the row counts
    (indicators and divisions are complete at any scale)."""
    if scale < 1:
        raise ValueError(f"scale must be at least 1, not {scale}")
    rows = {code: count * scale for code, count in DEMO_ROWS.items()}
    population = people(rows["population"], seed=seed, city_code=city_code)
    companies = legal_persons(
        rows["legal_person"], seed=seed, people=population, city_code=city_code
    )
    return {
        "population": population,
        "legal_person": companies,
        "credit_record": credit_records(
            rows["credit_record"], seed=seed, people=population, legal_persons=companies
        ),
        "macro_indicator": macro_indicators(seed=seed, city_code=city_code),
        "material": materials(
            rows["material"], seed=seed, people=population, legal_persons=companies
        ),
        "geo_division": divisions(city_code),
        "geo_address": addresses(rows["geo_address"], seed=seed, city_code=city_code),
    }
