"""Builders for the assurance tests: a seeded city in its own database, and planted problems.

The pipelines open their own connections (Great Expectations, the in-process portal), so their
scenes are committed to a dedicated database rather than rolled back inside one transaction.
Both cities carry weeks of normal sharing traffic (`sharing_scene.clean_traffic`), so a clean
run proves the access and audit checks quiet on real use, not on empty tables.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import Connection, text

from exchange import seed as seeding
from exchange.core.db import session_scope, utcnow
from exchange.core.runtime import Runtime, build_runtime
from exchange.core.settings import Settings
from exchange.demo import seed_demo_city
from exchange.lifecycle import prepare_database
from exchange.testing.postgres import LocalPostgres
from tests.pipelines.sharing_scene import DAY, Scene, Traffic, clean_traffic

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
        janitor_interval_s=0,
    )


def seeded_city(pg: LocalPostgres, name: str, var_dir: Path) -> tuple[Runtime, Traffic]:
    """The demo city 杭州市 with every registry seeded through the intake (gate included),
    and four weeks of sharing traffic."""
    rt = build_runtime(city_settings(pg.create_database(name), var_dir))
    prepare_database(rt.engine, rt.schemas)
    with session_scope(rt.sessions) as session:
        seed_demo_city(session, rt.settings, rt.schemas)
    seeding.load_divisions(rt)
    results = seeding.seed(rt, 1)
    assert all(r["status"] == "accepted" for r in results), results
    return rt, clean_traffic(rt, utcnow())


@dataclass(frozen=True)
class Planted:
    bad_checksum_id: str = BAD_CHECKSUM_ID
    stale_resource: str = "geo_address"
    leaking_address: str = ""
    silent_connector: str = ""
    contradicted_resource: str = "macro_indicator"  # 不予共享 in the catalogue, on the portal
    reopened_resource: str = "population"  # 禁止开放 in its schema, opened in the catalogue
    unshared_granted: str = "material"  # made 不予共享 while a grant on it still holds
    tampered_entry: int = 0
    deleted_entry: int = 0
    expired_grant: str = ""
    revoked_grant: str = ""
    dormant_client: str = ""
    surging_department: str = ""


def plant_problems(rt: Runtime, traffic: Traffic, now: dt.datetime | None = None) -> Planted:
    """Each problem the assurance systems must find, written past the gate, straight to SQL."""
    now = now or utcnow()
    sharing = _plant_sharing_misuse(rt, now)
    with rt.engine.begin() as conn:
        # 1. a population row with a wrong check character, inserted behind the gate's back
        # (a man's number, so its gender is stated, not copied from whichever row comes first)
        conn.execute(
            text(
                "INSERT INTO ds_population (id_number, name, gender, birth_date,"
                " household_division, status, _seq, _version, _deleted, _batch_id, _recorded_at,"
                " _valid_from) SELECT :id, name, '1', DATE '1990-01-01', household_division,"
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
        # 11. material reclassified 不予共享 in the catalogue, its grants left holding
        conn.execute(text("UPDATE resource SET share_class = 'none' WHERE code = 'material'"))
        # 12. population (禁止开放 in its schema) opened by an edit of its catalogue entry
        conn.execute(text("UPDATE resource SET open_class = 'open' WHERE code = 'population'"))
        # 13-14. one sealed audit entry edited, another deleted
        tampered, deleted = _tamper_with_the_audit_log(conn, traffic)
    return Planted(
        leaking_address=address,
        silent_connector=connector,
        tampered_entry=tampered,
        deleted_entry=deleted,
        **sharing,
    )


def _plant_sharing_misuse(rt: Runtime, now: dt.datetime) -> dict[str, str]:
    """Rights used past their end, a forgotten credential, a surge, a grant on 不予共享 data.

    The reads after a grant ended are what a read path that skipped the grant check would
    log (the platform's own paths refuse them); their entries are genuine and sealed, so
    only the access check can object to them.
    """
    with rt.sessions() as session:
        scene = Scene(rt, session, now)
        # 6. 人社局 kept reading for two days after its grant expired
        rs = scene.consumer("RS")
        expired = scene.grant(rs, "population", granted=33, expires=-3)
        scene.steady(rs, expired, days=range(4, 29), rows=25)
        scene.read(rs, expired, days_ago=2, rows=25)
        scene.read(rs, expired, days_ago=1, rows=25)
        # 7. 卫健委's grant was revoked five days ago; a read succeeded yesterday
        wj = scene.consumer("WJ")
        revoked = scene.grant(wj, "population", granted=30, expires=335)
        revoked.revoked_at, revoked.revoked_by = now - 5 * DAY, "client:admin"
        revoked.revoke_reason = "用途已完成"
        scene.steady(wj, revoked, days=range(6, 29), rows=10)
        scene.read(wj, revoked, days_ago=1, rows=10)
        # 8. a credential nobody has used for four months, never revoked
        dormant = scene.client("WJ", "WJ-old-gateway", created_days_ago=200, token_days_ago=120)
        # 9. 税务局 reads about 30 legal persons a day, then 5,000 within the last day
        sw = scene.consumer("SW")
        usual = scene.grant(sw, "legal_person", granted=40, expires=325)
        scene.steady(sw, usual, days=range(1, 29), rows=30)
        scene.read(sw, usual, days_ago=0.1, rows=5_000)
        # 10. 民政局 holds a grant on material (reclassified 不予共享 below)
        scene.grant(scene.consumer("MZ"), "material", granted=10, expires=355)
        scene.done()
    return {
        "expired_grant": f"grant:{expired.id}",
        "revoked_grant": f"grant:{revoked.id}",
        "dormant_client": f"client:{dormant.id}",
        "surging_department": f"department:{sw.department_path}",
    }


def _tamper_with_the_audit_log(conn: Connection, traffic: Traffic) -> tuple[int, int]:
    """What an attacker with database superuser rights would do: switch the append-only
    triggers off for this transaction (replica mode skips ordinary triggers), then hide one
    read's volume and remove another read altogether."""
    conn.execute(text("SET LOCAL session_replication_role = replica"))
    tampered, deleted = traffic.steady_entries[10], traffic.steady_entries[5]
    conn.execute(text("UPDATE audit_entry SET rows = 1 WHERE id = :i"), {"i": tampered})
    conn.execute(text("DELETE FROM audit_entry WHERE id = :i"), {"i": deleted})
    return tampered, deleted
