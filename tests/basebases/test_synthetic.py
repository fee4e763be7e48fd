import datetime as dt
import re

import pyarrow as pa
import pyarrow.compute as pc
import pytest
from stdnum.cn import ric, uscc

from basebases.synthetic import (
    AS_OF,
    DEMO_ROWS,
    addresses,
    demo_city,
    legal_persons,
    macro_indicators,
    people,
)
from exchange.core import divisions
from exchange.core.resource_schema import SCHEMAS_DIR, load_all

HANGZHOU = "330100000000"
SCHEMAS = load_all(SCHEMAS_DIR)


@pytest.fixture(scope="module")
def city() -> dict[str, pa.Table]:
    return demo_city(1, seed=7)


@pytest.fixture(scope="module")
def crowd() -> pa.Table:
    return people(60_000, seed=11)


def local_names(city_code: str) -> tuple[str, ...]:
    """How names of bodies in a city begin: 杭州..., or a county's own name (桐庐县...)."""
    counties = [d.name for d in divisions.children_of(city_code) if not d.name.endswith("区")]
    return (divisions.name_of(city_code).removesuffix("市"), *counties)


def rows(table: pa.Table) -> list[dict]:
    return table.to_pylist()


def org_code_is_valid(code: str) -> bool:
    """GB 11714, written out independently of the generator's vectorised version."""
    values = [int(c) if c.isdigit() else ord(c) - 55 for c in code[:8]]
    check = 11 - sum(v * w for v, w in zip(values, (3, 7, 9, 10, 5, 8, 4, 2), strict=True)) % 11
    return code[8] == {10: "X", 11: "0"}.get(check, str(check))


def test_demo_city_has_every_resource_with_its_exact_arrow_schema(city) -> None:
    assert set(city) == set(SCHEMAS)
    for code, table in city.items():
        assert table.schema.equals(SCHEMAS[code].arrow_schema(), check_metadata=True), code


def test_every_value_satisfies_its_fields_constraints(city) -> None:
    for code, table in city.items():
        for spec in SCHEMAS[code].fields:
            column = table[spec.name]
            if spec.required:
                assert column.null_count == 0, (code, spec.name)
            values = [v for v in column.to_pylist() if v is not None]
            if spec.enum:
                assert set(values) <= set(spec.enum), (code, spec.name)
            if spec.pattern:
                bad = [v for v in values if not re.fullmatch(spec.pattern, v)]
                assert not bad, (code, spec.name, bad[:3])
            if spec.minimum is not None:
                assert min(values) >= spec.minimum, (code, spec.name)
            if spec.maximum is not None:
                assert max(values) <= spec.maximum, (code, spec.name)


def test_primary_keys_are_unique_in_every_table(city) -> None:
    for code, table in city.items():
        keys = list(zip(*(table[k].to_pylist() for k in SCHEMAS[code].primary_key), strict=True))
        assert len(set(keys)) == len(keys) == table.num_rows, code


def test_every_id_number_passes_stdnum_and_agrees_with_birth_date_and_gender(city) -> None:
    for person in rows(city["population"]):
        number = person["id_number"]
        assert ric.validate(number) == number
        assert ric.get_birth_date(number) == person["birth_date"]
        assert person["gender"] == ("1" if int(number[16]) % 2 else "2")


def test_a_large_population_has_unique_valid_id_numbers(crowd) -> None:
    numbers = crowd["id_number"].to_pylist()
    assert len(set(numbers)) == len(numbers)
    sample = crowd.take(pa.array(range(0, crowd.num_rows, 20)))
    for person in rows(sample):
        assert ric.is_valid(person["id_number"]), person["id_number"]
        assert ric.get_birth_date(person["id_number"]) == person["birth_date"]
        assert person["gender"] == ("1" if int(person["id_number"][16]) % 2 else "2")


def test_id_numbers_start_with_a_district_of_the_city_and_people_live_in_one(crowd) -> None:
    districts = {d.code[:6] for d in divisions.children_of(HANGZHOU)}
    assert {n[:6] for n in crowd["id_number"].to_pylist()} <= districts
    homes = set(crowd["household_division"].to_pylist())
    assert homes == {d.code for d in divisions.children_of(HANGZHOU)}


def test_people_are_aged_0_to_95_with_plausible_names_phones_and_ethnicity(crowd) -> None:
    births = crowd["birth_date"].to_pylist()
    assert max(births) <= AS_OF
    assert min(births) > AS_OF.replace(year=AS_OF.year - 96)
    assert sum(b <= AS_OF.replace(year=AS_OF.year - 65) for b in births) > 0.05 * len(births)
    names = crowd["name"].to_pylist()
    assert all(2 <= len(n) <= 4 for n in names)
    ethnic = crowd["ethnicity"].value_counts().to_pylist()
    counts = {e["values"]: e["counts"] for e in ethnic}
    assert set(counts) <= set(divisions.ethnic_groups())
    assert 0.95 < counts["汉族"] / crowd.num_rows < 0.995 and len(counts) > 10
    living = pc.sum(pc.equal(crowd["status"], "living")).as_py()
    assert living / crowd.num_rows > 0.9
    address = crowd["address"][0].as_py()
    home = divisions.name_of(crowd["household_division"][0].as_py())
    assert address.startswith(f"浙江省杭州市{home}")


def test_every_credit_code_passes_stdnum_with_a_valid_organisation_code(city) -> None:
    codes = city["legal_person"]["uscc"].to_pylist()
    more = legal_persons(3_000, seed=5, people=city["population"])["uscc"].to_pylist()
    for code in codes + more:
        assert uscc.validate(code) == code
        assert org_code_is_valid(code[8:17]), code
    assert len(set(more)) == len(more)


def test_credit_code_prefix_fits_entity_type_and_region(city) -> None:
    heads = {
        "company": {"91"},
        "partnership": {"91"},
        "sole_proprietorship": {"91"},
        "individual_business": {"92"},
        "public_institution": {"12"},
        "social_organization": {"51", "52", "53"},
    }
    for lp in rows(city["legal_person"]):
        assert lp["uscc"][:2] in heads[lp["entity_type"]], lp
        assert lp["uscc"][2:8] in {lp["division"][:6], HANGZHOU[:6]}, lp


def test_legal_representatives_are_living_adults_of_the_population(city) -> None:
    population = {p["id_number"]: p for p in rows(city["population"])}
    adult = AS_OF.replace(year=AS_OF.year - 18)
    for lp in rows(city["legal_person"]):
        rep = population[lp["legal_rep_id_number"]]
        assert rep["name"] == lp["legal_rep_name"]
        assert rep["status"] == "living" and rep["birth_date"] <= adult
        assert lp["established_on"] <= AS_OF


def test_legal_person_names_are_unique_and_local(city) -> None:
    names = city["legal_person"]["name"].to_pylist()
    assert len(set(names)) == len(names)
    assert all(n.startswith(local_names(HANGZHOU)) for n in names)


def test_every_credit_subject_exists_according_to_its_kind(city) -> None:
    subjects = {
        "natural_person": set(city["population"]["id_number"].to_pylist()),
        "legal_person": set(city["legal_person"]["uscc"].to_pylist()),
    }
    records = rows(city["credit_record"])
    assert {r["subject_kind"] for r in records} == set(subjects)
    for record in records:
        assert record["subject_code"] in subjects[record["subject_kind"]], record
        assert record["decided_on"] < record["valid_until"]
        assert record["decided_on"] <= AS_OF
        assert record["authority"].startswith((*local_names(HANGZHOU), "国家税务总局"))


def test_every_material_holder_exists_and_its_file_has_a_sha256(city) -> None:
    holders = {
        "natural_person": set(city["population"]["id_number"].to_pylist()),
        "legal_person": set(city["legal_person"]["uscc"].to_pylist()),
    }
    for material in rows(city["material"]):
        assert material["holder_code"] in holders[material["holder_kind"]], material
        assert re.fullmatch("[0-9a-f]{64}", material["file_sha256"])
        assert material["issued_on"] <= AS_OF
        if material["valid_until"] is not None:
            assert material["valid_until"] > material["issued_on"]
    digests = city["material"]["file_sha256"].to_pylist()
    assert len(set(digests)) == len(digests)


def test_every_division_code_is_a_known_division_of_the_city(city) -> None:
    columns = {
        "population": "household_division",
        "legal_person": "division",
        "macro_indicator": "division",
        "geo_division": "code",
        "geo_address": "division",
    }
    for code, column in columns.items():
        for value in set(city[code][column].to_pylist()):
            assert divisions.require(value) == value
            assert value[:2] == HANGZHOU[:2], (code, value)


def test_division_tree_is_province_city_and_districts(city) -> None:
    tree = {d["code"]: d for d in rows(city["geo_division"])}
    assert tree["330000000000"]["level"] == "province"
    assert tree["330000000000"]["parent_code"] is None
    assert tree[HANGZHOU]["parent_code"] == "330000000000"
    districts = [d for d in tree.values() if d["level"] == "district"]
    assert {d["code"] for d in districts} == {d.code for d in divisions.children_of(HANGZHOU)}
    assert all(d["parent_code"] == HANGZHOU for d in districts)


def test_addresses_lie_near_their_district_centroid() -> None:
    table = addresses(2_000, seed=3)
    assert set(table["kind"].to_pylist()) == set(SCHEMAS["geo_address"].field("kind").enum or ())
    centres = {d.code: (d.longitude, d.latitude) for d in divisions.children_of(HANGZHOU)}
    for a in rows(table):
        longitude, latitude = centres[a["division"]]
        assert abs(a["longitude"] - longitude) < 0.6, a
        assert abs(a["latitude"] - latitude) < 0.6, a


def test_macro_indicators_add_up_across_districts_quarters_and_months() -> None:
    table = macro_indicators(seed=2)
    value = {(r["indicator"], r["division"], r["period"]): r["value"] for r in rows(table)}
    districts = [d.code for d in divisions.children_of(HANGZHOU)]
    for year in range(2019, 2025):
        for indicator in ("GDP", "POP", "RETAIL"):
            parts = sum(value[indicator, d, str(year)] for d in districts)
            assert value[indicator, HANGZHOU, str(year)] == pytest.approx(parts, abs=0.05)
        quarters = sum(value["GDP", HANGZHOU, f"{year}Q{q}"] for q in range(1, 5))
        assert value["GDP", HANGZHOU, str(year)] == pytest.approx(quarters, abs=0.05)
        months = sum(value["RETAIL", HANGZHOU, f"{year}-{m:02d}"] for m in range(1, 13))
        assert value["RETAIL", HANGZHOU, str(year)] == pytest.approx(months, abs=0.05)
        assert 95 < value["CPI", HANGZHOU, str(year)] < 106
    assert 10_000 < value["GDP", HANGZHOU, "2019"] < value["GDP", HANGZHOU, "2024"] < 40_000
    assert 800 < value["POP", HANGZHOU, "2024"] < 1_600
    units = {(r["indicator"], len(r["period"])): r["unit"] for r in rows(table)}
    assert units["GDP", 4] == "亿元" and units["POP", 4] == "万人"
    assert units["CPI", 4] == "上年=100" and units["RETAIL", 7] == "亿元"


def test_the_same_seed_gives_equal_tables_and_another_seed_different_ones(city) -> None:
    again = demo_city(1, seed=7)
    other = demo_city(1, seed=8)
    for code, table in city.items():
        assert again[code].equals(table), code
        if code != "geo_division":  # the real division table does not depend on the seed
            assert not other[code].equals(table), code


def test_scale_multiplies_row_counts() -> None:
    tables = demo_city(3, seed=1)
    for code, count in DEMO_ROWS.items():
        assert tables[code].num_rows == 3 * count
    assert tables["macro_indicator"].num_rows == demo_city(1, seed=1)["macro_indicator"].num_rows


def test_another_city_gets_its_own_valid_registry() -> None:
    ningbo = "330200000000"
    residents = people(3_000, seed=1, city_code=ningbo)
    assert all(ric.is_valid(n) for n in residents["id_number"].to_pylist())
    assert {d[:4] for d in residents["household_division"].to_pylist()} == {"3302"}
    assert min(residents["birth_date"].to_pylist()) < dt.date(1950, 1, 1)
    companies = legal_persons(200, seed=1, people=residents, city_code=ningbo)
    names = companies["name"].to_pylist()
    assert all(n.startswith(local_names(ningbo)) for n in names)
