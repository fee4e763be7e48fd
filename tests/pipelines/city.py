"""Builders for the assurance tests: a seeded city in its own database, and planted problems.

The pipelines open their own connections (Great Expectations, the in-process portal), so their
scenes are committed to a dedicated database rather than rolled back inside one transaction.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import text

from exchange import seed as seeding
from exchange.core.db import session_scope, utcnow
from exchange.core.runtime import Runtime, build_runtime
from exchange.core.settings import Settings
from exchange.demo import seed_demo_city
from exchange.lifecycle import prepare_database
from exchange.testing.postgres import LocalPostgres

# A valid ID number (checksum right, region 330106) and the same with a wrong check character.
PLANTED_ID = "33010619900101123X"
BAD_CHECKSUM_ID = "330106199001011230"


def city_settings(database_url: str, var_dir: Path) -> Settings:
    return Settings(
        env="test",
        secret_key="test-secret-not-for-production",
        database_url=database_url,
        var_dir=var_dir,
        store_url=(var_dir / "payloads").as_uri(),
        relay_interval_s=0,
    )


def seeded_city(pg: LocalPostgres, name: str, var_dir: Path) -> Runtime:
    """The demo city 杭州市 with every registry seeded through the intake (gate included)."""
    rt = build_runtime(city_settings(pg.create_database(name), var_dir))
    prepare_database(rt.engine, rt.schemas)
    with session_scope(rt.sessions) as session:
        seed_demo_city(session, rt.settings, rt.schemas)
    seeding.load_divisions(rt)
    results = seeding.seed(rt, 1)
    assert all(r["status"] == "accepted" for r in results), results
    return rt


@dataclass(frozen=True)
class Planted:
    bad_checksum_id: str = BAD_CHECKSUM_ID
    stale_resource: str = "geo_address"
    leaking_address: str = ""
    silent_connector: str = ""
    contradicted_resource: str = "macro_indicator"


def plant_problems(rt: Runtime, now: dt.datetime | None = None) -> Planted:
    """Each problem the assurance systems must find, written past the gate, straight to SQL."""
    now = now or utcnow()
    with rt.engine.begin() as conn:
        # 1. a population row with a wrong check character, inserted behind the gate's back
        conn.execute(
            text(
                "INSERT INTO ds_population (id_number, name, gender, birth_date,"
                " household_division, status, _seq, _version, _deleted, _batch_id, _recorded_at,"
                " _valid_from) SELECT :id, name, gender, DATE '1990-01-01', household_division,"
                " status, (SELECT max(_seq) + 1 FROM ds_population), 1, false, _batch_id,"
                " _recorded_at, _valid_from FROM ds_population LIMIT 1"
            ),
            {"id": BAD_CHECKSUM_ID},
        )
        # 2. a monthly resource last updated over a year ago
        conn.execute(
            text("UPDATE resource SET last_updated_at = :at WHERE code = 'geo_address'"),
            {"at": now - dt.timedelta(days=400)},
        )
        # 3. a name and an ID number typed into an open dataset's public text column
        address = conn.execute(text("SELECT min(address_id) FROM ds_geo_address")).scalar_one()
        conn.execute(
            text(
                "UPDATE ds_geo_address SET name = name || ' 联系人张三' || :id"
                " WHERE address_id = :a"
            ),
            {"id": PLANTED_ID, "a": address},
        )
        # 4. a connector not heard from for ten days
        connector = conn.execute(text("SELECT min(id::text) FROM connector")).scalar_one()
        conn.execute(
            text("UPDATE connector SET last_seen_at = :at WHERE id::text = :c"),
            {"at": now - dt.timedelta(days=10), "c": connector},
        )
        # 5. an open resource marked 不予共享 in the catalogue: the portal still publishes it
        conn.execute(
            text("UPDATE resource SET share_class = 'none' WHERE code = 'macro_indicator'")
        )
    return Planted(leaking_address=address, silent_connector=connector)
