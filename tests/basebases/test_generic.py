"""The generic generator: rows for any schema that pass the hub's own intake gate."""

from __future__ import annotations

from functools import cache
from typing import Any

import pyarrow as pa
import pytest

from basebases import synthetic
from basebases.synthetic import generic
from exchange import demo_city
from exchange.core import divisions
from exchange.core.resource_schema import SCHEMAS_DIR, ResourceSchema, load_all
from exchange.quality import validate_table

SPECS = {s.code: s for s in demo_city.specs()}
BUILT_IN = load_all(SCHEMAS_DIR)


@cache
def registry_keys() -> dict[str, list[Any]]:
    return demo_city.keys_from(synthetic.demo_city(1, seed=3))


class KnownKeys:
    """The gate's reference rule over in-memory keys, as the node's tables would answer it."""

    def __init__(self, keys: dict[str, list[Any]]) -> None:
        self.keys = {target: {str(v) for v in values} for target, values in keys.items()}

    def missing(self, resource: str, field: str, values: pa.Array) -> pa.Array:
        held = self.keys.get(f"{resource}.{field}", set())
        absent = [v for v in values.to_pylist() if v is not None and str(v) not in held]
        return pa.array(absent, values.type)


def _gate(spec: ResourceSchema, table: pa.Table) -> list[str]:
    report = validate_table(table, spec, references=KnownKeys(registry_keys()))
    return [f"{f.rule} {f.field}: {f.message}" for f in report.findings]


@pytest.mark.parametrize("code", sorted(SPECS))
def test_rows_for_every_demo_resource_pass_the_intake_gate(code: str) -> None:
    spec = SPECS[code]
    table = generic.rows(spec, 120, seed=7, keys=registry_keys())
    assert table.schema == spec.arrow_schema()
    assert table.num_rows == 120 or code == "ls_forest_resources"  # 11 years x 13 districts
    assert _gate(spec, table) == []


@pytest.mark.parametrize("code", sorted(BUILT_IN))
def test_rows_for_the_registries_own_schemas_pass_too(code: str) -> None:
    table = generic.rows(BUILT_IN[code], 60, seed=2, keys=registry_keys())
    assert table.num_rows > 0
    assert _gate(BUILT_IN[code], table) == []


def test_the_same_seed_gives_the_same_rows_and_another_seed_others() -> None:
    spec = SPECS["rs_social_insurance"]
    first = generic.rows(spec, 50, seed=1, keys=registry_keys())
    assert first.equals(generic.rows(spec, 50, seed=1, keys=registry_keys()))
    assert not first.equals(generic.rows(spec, 50, seed=2, keys=registry_keys()))


def test_references_draw_on_the_keys_passed_in() -> None:
    keys = registry_keys()
    table = generic.rows(SPECS["yb_medical_insurance_enrolment"], 80, seed=1, keys=keys)
    assert set(table.column("id_number").to_pylist()) <= set(keys["population.id_number"])
    companies = generic.rows(SPECS["scjg_food_business_licences"], 80, seed=1, keys=keys)
    codes = companies.column("uscc").to_pylist()
    assert set(codes) <= set(keys["legal_person.uscc"])
    assert not any(c.startswith("92") for c in codes)  # an individual business names a person


def test_id_numbers_it_makes_carry_the_row_s_birth_date_gender_and_a_current_district() -> None:
    rows = generic.rows(SPECS["ga_household_registration"], 200, seed=5).to_pylist()
    hangzhou = {d.code[:6] for d in divisions.children_of("330100000000")} | {"330100"}
    for row in rows:
        number = row["id_number"]
        assert number[:6] in hangzhou
        assert row["birth_date"].strftime("%Y%m%d") == number[6:14]
        assert row["gender"] == ("1" if int(number[16]) % 2 else "2")
        assert divisions.within(row["household_division"], "330100000000")
    assert len({r["id_number"] for r in rows}) == len(rows)


def test_a_reference_without_keys_is_refused_naming_the_field() -> None:
    with pytest.raises(generic.MissingKeys, match=r"rs_social_insurance\.id_number.*population"):
        generic.rows(SPECS["rs_social_insurance"], 10, seed=1)


def test_a_unique_reference_stops_when_the_keys_run_out() -> None:
    keys = {"legal_person.uscc": registry_keys()["legal_person.uscc"][:5]}
    table = generic.rows(SPECS["jt_taxi_companies"], 50, seed=1, keys=keys)
    assert table.num_rows <= 5
    assert len(set(table.column("uscc").to_pylist())) == table.num_rows


def test_a_negative_count_is_refused() -> None:
    with pytest.raises(ValueError, match="must not be negative"):
        generic.rows(SPECS["tj_cpi"], -1, seed=1)


def test_an_end_follows_its_start_in_the_same_row() -> None:
    licences = generic.rows(SPECS["scjg_food_business_licences"], 100, seed=1, keys=registry_keys())
    for row in licences.to_pylist():
        if row["issued_on"] and row["valid_until"]:
            assert row["valid_until"] > row["issued_on"]
    for row in generic.rows(SPECS["jt_bus_routes"], 50, seed=1).to_pylist():
        if row["first_bus"] and row["last_bus"]:
            assert row["first_bus"].hour <= 8 < row["last_bus"].hour
