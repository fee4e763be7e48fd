"""One contract, every registry: load, look up now and in the past, history, tombstones."""

from __future__ import annotations

import datetime as dt
import json
import shutil
import time
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest
from sqlalchemy.orm import Session

from basebases import synthetic
from basebases.base import AsOfInFuture, BaseRegistry
from basebases.protocol import Registry
from basebases.registry import REGISTRIES, registry_for
from exchange.core.db import utcnow
from exchange.core.resource_schema import SCHEMAS_DIR, load_all
from exchange.core.settings import Settings
from exchange.datastore.tables import sync_tables
from exchange.seed import LOAD_ORDER
from tests.builders import seed_city

pytestmark = pytest.mark.both_backends

CITY = synthetic.demo_city(1, seed=5)


def reader(table: pa.Table) -> pa.RecordBatchReader:
    return pa.RecordBatchReader.from_batches(table.schema, table.to_batches())


def load_city(db: Session, settings: Settings) -> None:
    """The demo city's registries, loaded in dependency order through each registry."""
    seed_city(db, settings)
    for resource in LOAD_ORDER:
        registry = registry_for(resource)
        assert registry is not None, resource
        outcome = registry.load(db, reader(CITY[resource]), resource=resource)
        assert outcome.accepted, outcome.gate


def one_row(resource: str, i: int = 0) -> dict[str, Any]:
    return {k: v[0] for k, v in CITY[resource].slice(i, 1).to_pydict().items()}


def test_the_map_holds_the_six_registries_and_each_follows_the_protocol() -> None:
    assert set(REGISTRIES) == {
        "population",
        "legal_person",
        "geospatial",
        "credit",
        "macroeconomy",
        "materials",
    }
    for registry in REGISTRIES.values():
        assert isinstance(registry, Registry)
    kept = [r for reg in REGISTRIES.values() for r in reg.resources]
    assert sorted(kept) == sorted(load_all(SCHEMAS_DIR))  # every schema belongs to a registry


@pytest.mark.parametrize("kind", sorted(REGISTRIES))
def test_lookup_now_and_as_of_before_a_change_and_a_deletion(
    kind: str, db: Session, settings: Settings
) -> None:
    load_city(db, settings)
    registry = REGISTRIES[kind]
    schema = registry.schema
    row = one_row(schema.code)
    key = tuple(row[k] for k in schema.primary_key)
    first = registry.lookup(db, key)
    assert first is not None and first.values == row and first.version == 1

    before_change = utcnow()
    time.sleep(0.01)
    changed_field = next(
        f.name
        for f in schema.fields
        if f.name not in schema.primary_key
        and f.type == "string"
        and not f.enum
        and not f.references
        and not f.check
        and not f.pattern
        and not f.code_list
    )
    updated = CITY[schema.code].slice(0, 1)
    updated = updated.set_column(
        updated.schema.get_field_index(changed_field),
        changed_field,
        pa.array(["变更后的值"], pa.string()),
    )
    assert registry.load(db, reader(updated)).result.updated == 1  # type: ignore[union-attr]
    now = registry.lookup(db, key)
    assert now is not None and now.values[changed_field] == "变更后的值" and now.version == 2
    then = registry.lookup(db, key, as_of=before_change)
    assert then is not None and then.values[changed_field] == row[changed_field]

    before_delete = utcnow()
    time.sleep(0.01)
    tombstone = updated.append_column("_op", pa.array(["delete"]))
    assert registry.load(db, reader(tombstone)).result.deleted == 1  # type: ignore[union-attr]
    assert registry.lookup(db, key) is None
    still = registry.lookup(db, key, as_of=before_delete)
    assert still is not None and still.values[changed_field] == "变更后的值"
    assert [r.version for r in registry.history(db, key)] == [1, 2, 3]
    assert registry.history(db, key)[-1].deleted


def test_valid_time_is_kept_apart_from_recording_time(db: Session, settings: Settings) -> None:
    load_city(db, settings)
    population = REGISTRIES["population"]
    person = one_row("population")
    moved = CITY["population"].slice(0, 1)
    moved = moved.set_column(
        moved.schema.get_field_index("status"), "status", pa.array(["moved_out"])
    )
    effective = utcnow() - dt.timedelta(days=30)  # the move happened a month ago
    population.load(db, reader(moved), valid_from=effective)
    at = population.lookup(db, person["id_number"], valid_at=effective + dt.timedelta(days=1))
    assert at is not None and at.values["status"] == "moved_out"
    assert at.recorded_at > effective  # learnt today, true since last month


def test_an_as_of_time_in_the_future_is_refused(db: Session, settings: Settings) -> None:
    with pytest.raises(AsOfInFuture) as err:
        REGISTRIES["population"].lookup(
            db, "330106199001011234", as_of=utcnow() + dt.timedelta(hours=1)
        )
    assert err.value.status_code == 400 and "as_of" in err.value.detail


def findings(outcome: Any) -> set[tuple[str, str, str | None]]:
    return {(f["rule"], f["field"], f.get("key")) for f in outcome.gate["findings"]}


@pytest.mark.parametrize(
    ("resource", "mutate", "rule", "field"),
    [
        (
            "population",
            lambda r: r.update(
                id_number=r["id_number"][:-1] + ("0" if r["id_number"][-1] != "0" else "1")
            ),
            "cn_ric.checksum",
            "id_number",
        ),
        (
            "population",
            lambda r: r.update(birth_date=dt.date(1901, 1, 1)),
            "ric_birth_date",
            "birth_date",
        ),
        (
            "population",
            lambda r: r.update(household_division="330199000000"),
            "division",
            "household_division",
        ),
        (
            "legal_person",
            lambda r: r.update(legal_rep_id_number="11010519491231002X"),
            "reference",
            "legal_rep_id_number",
        ),
        (
            "credit_record",
            lambda r: r.update(subject_kind="legal_person", subject_code="91330106MA27XXXX0X"),
            "reference",
            "subject_code",
        ),
    ],
)
def test_a_bad_row_quarantines_the_whole_batch_naming_registry_key_and_field(
    db: Session, settings: Settings, resource: str, mutate: Any, rule: str, field: str
) -> None:
    load_city(db, settings)
    registry = registry_for(resource)
    assert registry is not None
    rows = CITY[resource].slice(0, 3).to_pylist()
    bad = dict(rows[1])
    mutate(bad)
    table = pa.Table.from_pylist([rows[0], bad, rows[2]], schema=CITY[resource].schema)
    outcome = registry.load(db, reader(table), resource=resource)
    assert not outcome.accepted and outcome.gate["resource"] == resource
    assert any(f[0] == rule and f[1] == field and f[2] for f in findings(outcome)), findings(
        outcome
    )


def test_a_duplicate_key_within_a_batch_is_a_finding(db: Session, settings: Settings) -> None:
    load_city(db, settings)
    twice = pa.concat_tables([CITY["material"].slice(0, 2), CITY["material"].slice(0, 1)])
    changed = twice.set_column(
        twice.schema.get_field_index("title"), "title", pa.array(["a", "b", "c"])
    )
    outcome = REGISTRIES["materials"].load(db, reader(changed))
    assert not outcome.accepted
    assert ("primary_key_unique", "material_id", one_row("material")["material_id"]) in findings(
        outcome
    )


def test_repeated_keys_in_a_first_load_are_all_found(db: Session, settings: Settings) -> None:
    # A first load goes straight into the empty table on PostgreSQL; a repeated key found in
    # a later record batch must still be reported with every other one, and nothing kept.
    seed_city(db, settings)
    people = CITY["population"]
    half = people.num_rows // 2
    assert half > 5
    parts = [
        people.slice(0, half),
        pa.concat_tables([people.slice(0, 3), people.slice(5, 1)]),  # repeats the first part
        people.slice(half),  # already on its way to the table when the repeat is found
    ]
    batches = [b for part in parts for b in part.combine_chunks().to_batches()]
    outcome = REGISTRIES["population"].load(
        db, pa.RecordBatchReader.from_batches(people.schema, batches)
    )
    assert not outcome.accepted
    repeated_ids = {people["id_number"][i].as_py() for i in (0, 1, 2, 5)}
    assert outcome.failed_rules == {"primary_key_unique": 4}
    assert {key for rule, _, key in findings(outcome)} == repeated_ids
    assert REGISTRIES["population"].rows(db) == []


def test_an_unknown_division_late_in_a_first_load_is_found_and_nothing_kept(
    db: Session, settings: Settings
) -> None:
    # Earlier record batches are being copied while later ones are checked, and divisions
    # already found are not asked for again: the one unknown code in the last batch must
    # still be caught, at its row, and the copied rows must go.
    seed_city(db, settings)
    people = CITY["population"]
    last = people.num_rows - 1
    codes = people["household_division"].to_pylist()
    codes[last] = "320102000000"  # 南京市玄武区: a real division, not in this layer
    stray = people.set_column(
        people.schema.get_field_index("household_division"), "household_division", [codes]
    )
    batches = stray.combine_chunks().to_batches(max_chunksize=max(1, people.num_rows // 4))
    assert len(batches) >= 4
    outcome = REGISTRIES["population"].load(
        db, pa.RecordBatchReader.from_batches(people.schema, batches)
    )
    assert not outcome.accepted
    assert outcome.failed_rules == {"reference": 1}
    assert [(f["field"], f["row"]) for f in outcome.gate["findings"]] == [
        ("household_division", last)
    ]
    assert REGISTRIES["population"].rows(db) == []


def test_a_seventh_registry_is_one_module_one_schema_one_line(
    db: Session, settings: Settings, tmp_path: Path
) -> None:
    schemas_dir = tmp_path / "schemas"
    shutil.copytree(SCHEMAS_DIR, schemas_dir)
    vehicle = {
        "name": "vehicle",
        "title": "机动车登记信息",
        "catalog": {
            "title": "机动车登记信息",
            "abstract": "全市登记机动车的号牌与所有人。",
            "classification": "基础信息资源/交通",
            "provider": "GA",
            "provider_name": "公安局",
            "share_class": "conditional",
            "open_class": "closed",
            "update_cycle": "daily",
        },
        "fields": [
            {"name": "plate", "type": "string", "constraints": {"required": True}},
            {
                "name": "owner_id_number",
                "type": "string",
                "sensitivity": "personal_id",
                "check": "cn_ric",
                "references": "population.id_number",
            },
        ],
        "primaryKey": ["plate"],
    }
    (schemas_dir / "vehicle.json").write_text(json.dumps(vehicle, ensure_ascii=False))

    class Vehicle(BaseRegistry):  # the one module
        kind = "vehicle"
        resources = ("vehicle",)

    Vehicle.schemas_dir = schemas_dir
    registries = {**REGISTRIES, "vehicle": Vehicle()}  # the one line
    load_city(db, settings)
    sync_tables(db.connection(), {"vehicle": registries["vehicle"].schema})
    owner = one_row("population")["id_number"]
    cars = pa.table({"plate": ["浙A12345", "浙A99999"], "owner_id_number": [owner, owner]})
    outcome = registries["vehicle"].load(db, reader(cars))
    assert outcome.accepted, outcome.gate
    found = registries["vehicle"].lookup(db, "浙A12345")
    assert found is not None and found.values["owner_id_number"] == owner
    stranger = pa.table({"plate": ["浙B1"], "owner_id_number": ["11010519491231002X"]})
    assert not registries["vehicle"].load(db, reader(stranger)).accepted


def test_registry_queries(db: Session, settings: Settings) -> None:
    load_city(db, settings)
    geo = REGISTRIES["geospatial"]
    children = {c["code"] for c in geo.children(db, "330100000000")}  # type: ignore[attr-defined]
    assert "330106000000" in children
    place = geo.containing(db, 120.13, 30.26)  # type: ignore[attr-defined]
    assert place is not None and place.name == "西湖区"
    assert geo.geocode(db, "浙江省杭州市西湖区文三路90号") == "330106000000"  # type: ignore[attr-defined]

    person = one_row("population")
    firms = REGISTRIES["legal_person"].represented_by(  # type: ignore[attr-defined]
        db, one_row("legal_person")["legal_rep_id_number"]
    )
    assert one_row("legal_person")["uscc"] in {f["uscc"] for f in firms}

    gdp = REGISTRIES["macroeconomy"].series(db, "GDP", "330100000000")  # type: ignore[attr-defined]
    assert [p.period for p in gdp] == sorted(p.period for p in gdp) and len(gdp) >= 5

    material = one_row("material")
    reusable = REGISTRIES["materials"].reusable(  # type: ignore[attr-defined]
        db, material["holder_code"], on=material["issued_on"]
    )
    valid = material["valid_until"] is None or material["valid_until"] >= material["issued_on"]
    assert (material["material_id"] in {m["material_id"] for m in reusable}) == valid
    record = one_row("credit_record")
    found = REGISTRIES["credit"].records_for(  # type: ignore[attr-defined]
        db, record["subject_code"], on=record["decided_on"]
    )
    assert record["record_id"] in {r["record_id"] for r in found}
    residents = REGISTRIES["population"].residents_of(  # type: ignore[attr-defined]
        db, person["household_division"]
    )
    assert (person["id_number"] in {r["id_number"] for r in residents}) == (
        person["status"] == "living"
    )
