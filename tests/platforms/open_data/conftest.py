"""A seeded city with open data loaded through the real intake, per test (rolled back)."""

from __future__ import annotations

import pytest
from sqlalchemy.orm import Session

from basebases import synthetic
from exchange.core.runtime import Runtime
from exchange.core.settings import Settings
from tests.platforms.open_data.builders import load, seeded

ADDRESSES = 120
COMPANIES = 40


@pytest.fixture
def city(db: Session, settings: Settings) -> None:
    seeded(db, settings)


@pytest.fixture
def loaded(city: None, runtime: Runtime) -> dict[str, int]:
    """Rows per loaded resource: divisions, addresses, indicators, companies."""
    code = runtime.settings.node_code
    people = synthetic.people(100, seed=3, city_code=code)
    tables = {
        "geo_division": synthetic.divisions(code),
        "geo_address": synthetic.addresses(ADDRESSES, seed=3, city_code=code),
        "macro_indicator": synthetic.macro_indicators(seed=3, city_code=code),
        "legal_person": synthetic.legal_persons(COMPANIES, seed=3, people=people, city_code=code),
    }
    for resource, table in tables.items():
        load(runtime, resource, table)
    return {resource: table.num_rows for resource, table in tables.items()}
