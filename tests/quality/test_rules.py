"""Deriving a resource's quality rules from its schema file."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from exchange.core.resource_schema import SCHEMAS_DIR, ResourceSchema, load_all, load_schema
from exchange.quality.report import WARNING
from exchange.quality.rules import Rule, RuleError, RuleName, derive_rules


def _schema(code: str) -> ResourceSchema:
    return load_schema(SCHEMAS_DIR / f"{code}.json")


def _pairs(rules: list[Rule]) -> list[tuple[str, str | None]]:
    return [(str(r.name), r.field) for r in rules]


def test_population_rules_cover_every_constraint_and_check_once() -> None:
    assert _pairs(derive_rules(_schema("population"))) == [
        ("required", "id_number"),
        ("cn_ric.format", "id_number"),
        ("cn_ric.checksum", "id_number"),
        ("cn_ric.region", "id_number"),
        ("required", "name"),
        ("required", "gender"),
        ("enum", "gender"),
        ("ric_gender", "gender"),
        ("required", "birth_date"),
        ("ric_birth_date", "birth_date"),
        ("code_list", "ethnicity"),
        ("required", "household_division"),
        ("division", "household_division"),
        ("reference", "household_division"),
        ("pattern", "phone"),
        ("required", "status"),
        ("enum", "status"),
        ("primary_key_unique", "id_number"),
    ]


def test_rules_that_would_only_repeat_another_rule_are_left_out() -> None:
    rules = derive_rules(_schema("population"))
    id_rules = {r.name for r in rules if r.field == "id_number"}
    # Its pattern is exactly the cn_ric format; `unique` is the primary key's check.
    assert RuleName.pattern not in id_rules and RuleName.unique not in id_rules
    # gender's enum lies inside GB/T 2261.1; the division check covers GB/T 2260.
    assert not any(r.name is RuleName.code_list and r.field != "ethnicity" for r in rules)


def test_cross_field_checks_name_the_id_number_field_and_unknown_regions_only_warn() -> None:
    rules = {(r.name, r.field): r for r in derive_rules(_schema("population"))}
    assert rules[RuleName.ric_birth_date, "birth_date"].params["id_field"] == "id_number"
    gender = rules[RuleName.ric_gender, "gender"]
    assert gender.params == {"id_field": "id_number", "warning_codes": ("0", "9")}
    assert rules[RuleName.cn_ric_region, "id_number"].severity == WARNING


def test_a_composite_primary_key_is_one_rule_over_all_its_fields() -> None:
    pk = derive_rules(_schema("macro_indicator"))[-1]
    assert pk.name is RuleName.primary_key_unique and pk.field is None
    assert pk.params["fields"] == ("indicator", "division", "period")


def test_legal_person_rules_check_credit_codes_ranges_and_references() -> None:
    pairs = _pairs(derive_rules(_schema("legal_person")))
    for expected in [
        ("pattern", "uscc"),  # looser than the cn_uscc format, so kept
        ("cn_uscc.format", "uscc"),
        ("cn_uscc.checksum", "uscc"),
        ("minimum", "registered_capital"),
        ("reference", "legal_rep_id_number"),
    ]:
        assert expected in pairs
    refs = {
        r.field: r.params for r in derive_rules(_schema("legal_person")) if r.name == "reference"
    }
    assert refs["legal_rep_id_number"] == {
        "resource": "population",
        "field": "id_number",
        "when": None,
    }
    assert refs["division"] == {"resource": "geo_division", "field": "code", "when": None}


def test_a_credit_subject_is_looked_up_where_its_kind_says() -> None:
    refs = [r.params for r in derive_rules(_schema("credit_record")) if r.name == "reference"]
    assert refs == [
        {
            "resource": "population",
            "field": "id_number",
            "when": ("subject_kind", "natural_person"),
        },
        {"resource": "legal_person", "field": "uscc", "when": ("subject_kind", "legal_person")},
    ]


def test_every_schema_in_the_repository_yields_rules() -> None:
    for schema in load_all(SCHEMAS_DIR).values():
        names = {r.name for r in derive_rules(schema)}
        assert RuleName.primary_key_unique in names and RuleName.required in names


def test_a_gender_check_without_an_id_number_field_is_refused(tmp_path: Path) -> None:
    descriptor = json.loads((SCHEMAS_DIR / "population.json").read_text())
    del descriptor["fields"][0]["check"]
    path = tmp_path / "population.json"
    path.write_text(json.dumps(descriptor))
    with pytest.raises(RuleError, match=r"population\.gender: .*exactly one field with check"):
        derive_rules(load_schema(path))
