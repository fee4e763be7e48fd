import json
from pathlib import Path

import pyarrow as pa
import pytest

from exchange.core.resource_schema import (
    SCHEMAS_DIR,
    OpenClass,
    SchemaFileError,
    Sensitivity,
    ShareClass,
    load_all,
    load_schema,
)


def test_every_schema_file_in_the_repository_loads() -> None:
    files = sorted(SCHEMAS_DIR.glob("*.json"))
    schemas = load_all(SCHEMAS_DIR)
    assert len(files) >= 7 and len(schemas) == len(files)
    for schema in schemas.values():
        arrow = schema.arrow_schema()
        assert arrow.names == schema.field_names
        assert set(schema.primary_key) <= set(schema.field_names)


def test_population_schema_carries_our_extensions_and_maps_to_arrow() -> None:
    pop = load_all(SCHEMAS_DIR)["population"]
    assert pop.primary_key == ("id_number",)
    assert pop.catalog.share_class is ShareClass.conditional
    assert pop.catalog.open_class is OpenClass.closed
    assert pop.field("id_number").sensitivity is Sensitivity.personal_id
    assert pop.field("id_number").check == "cn_ric"
    assert pop.field("gender").code_list == "GB/T 2261.1"
    arrow = pop.arrow_schema()
    assert arrow.field("birth_date").type == pa.date32()
    assert not arrow.field("id_number").nullable and arrow.field("phone").nullable


def _good() -> dict:
    return json.loads((SCHEMAS_DIR / "macro_indicator.json").read_text())


def _write(tmp_path: Path, descriptor: dict | str, name: str = "macro_indicator") -> Path:
    path = tmp_path / f"{name}.json"
    path.write_text(descriptor if isinstance(descriptor, str) else json.dumps(descriptor))
    return path


def _break(mutate) -> dict:  # type: ignore[no-untyped-def]
    d = _good()
    mutate(d)
    return d


@pytest.mark.parametrize(
    ("descriptor", "problem"),
    [
        ("{not json", "not readable JSON"),
        ("[]", "top level must be a JSON object"),
        (_break(lambda d: d["fields"][0].update(type="integr")), "invalid Table Schema"),
        (_break(lambda d: d["fields"][0].update(type="geojson")), "not supported by the hub"),
        (_break(lambda d: d["fields"][0].update(sensitivity="top")), "sensitivity must be one of"),
        (_break(lambda d: d["fields"][1].update(codeList="GB/T 9999")), "unknown codeList"),
        (_break(lambda d: d["fields"][1].update(check="luhn")), "unknown check"),
        (_break(lambda d: d["catalog"].pop("share_class")), "catalog.share_class: Field required"),
        (_break(lambda d: d["catalog"].update(open_class="maybe")), "catalog.open_class"),
        (_break(lambda d: d.pop("primaryKey")), "primaryKey is required"),
        (_break(lambda d: d.update(primaryKey=["nope"])), "primary key"),
        (_break(lambda d: d.update(name="Macro-Indicator")), "lower_snake_case"),
    ],
)
def test_a_broken_schema_file_fails_fast_with_its_path_and_problem(
    tmp_path: Path, descriptor: dict | str, problem: str
) -> None:
    path = _write(tmp_path, descriptor)
    with pytest.raises(SchemaFileError) as err:
        load_schema(path)
    assert err.value.path == path
    assert problem in str(err.value)
    assert str(path) in str(err.value)


def test_file_name_must_match_the_resource_code(tmp_path: Path) -> None:
    with pytest.raises(SchemaFileError, match=r"file name must be macro_indicator\.json"):
        load_schema(_write(tmp_path, _good(), name="indicators"))


def test_a_reference_to_an_unknown_resource_is_refused(tmp_path: Path) -> None:
    d = _good()
    d["fields"][1]["references"] = "nowhere.code"
    _write(tmp_path, d)
    with pytest.raises(SchemaFileError, match=r"references unknown field 'nowhere\.code'"):
        load_all(tmp_path)


@pytest.mark.parametrize(
    ("references", "problem"),
    [
        ("geo_division", "references must be 'resource.field'"),
        ({"by": "unit", "targets": {"x": "macro"}}, "references must be 'resource.field'"),
    ],
)
def test_a_malformed_reference_is_refused(tmp_path: Path, references: object, problem: str) -> None:
    d = _good()
    d["fields"][1]["references"] = references
    with pytest.raises(SchemaFileError, match=problem):
        load_schema(_write(tmp_path, d))


def test_a_conditional_reference_names_an_existing_column() -> None:
    credit = load_all(SCHEMAS_DIR)["credit_record"]
    assert credit.field("subject_code").references == (
        (("subject_kind", "natural_person"), "population.id_number"),
        (("subject_kind", "legal_person"), "legal_person.uscc"),
    )
