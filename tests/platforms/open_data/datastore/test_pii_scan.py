import dataclasses

import pyarrow as pa
import pyarrow.compute as pc
import pytest
from sqlalchemy.orm import Session

from basebases import synthetic
from exchange.core.runtime import Runtime
from exchange.platforms.open_data.datastore import pii_scan
from tests.platforms.open_data.builders import SCHEMAS, load

pytestmark = pytest.mark.both_backends
PLANTED_ID = "33010619900101123X"  # a valid GB 11643 check character


def test_open_demo_data_publishes_no_personal_data(db: Session, loaded: dict[str, int]) -> None:
    assert pii_scan.scan(db, SCHEMAS) == []


def test_a_planted_phone_and_id_number_are_found(
    db: Session, runtime: Runtime, loaded: dict[str, int]
) -> None:
    code = runtime.settings.node_code
    people = synthetic.people(20, seed=9, city_code=code)
    companies = synthetic.legal_persons(5, seed=9, people=people, city_code=code)
    address = companies.column("address").to_pylist()
    address[2] = address[2] + "（联系人手机 13912345678）"
    scope = companies.column("business_scope").to_pylist()
    scope[4] = f"法定代表人身份证{PLANTED_ID}，" + scope[4]
    leaky = companies.set_column(
        companies.schema.get_field_index("address"), "address", pa.array(address)
    ).set_column(
        companies.schema.get_field_index("business_scope"), "business_scope", pa.array(scope)
    )
    assert pc.sum(pc.match_substring(leaky.column("address"), "139")).as_py() >= 1
    load(runtime, "population", people)  # representatives must exist in the population registry
    load(runtime, "legal_person", leaky)
    found = {(f.dataset, f.column, f.kind): f for f in pii_scan.scan(db, SCHEMAS)}
    phone = found[("legal_person", "address", "mobile")]
    assert phone.example == "139****5678" and phone.count >= 1
    ident = found[("legal_person", "business_scope", "resident_id")]
    assert ident.example == "330106********123X"
    assert len(found) == 2  # the withheld legal_rep_id_number column is never read
    # "身份证" is a label, not a name: no name_with_id


def test_a_served_column_named_like_personal_data_is_reported() -> None:
    schema = SCHEMAS["legal_person"]
    assert pii_scan.personal_columns(schema) == []
    fields = tuple(
        dataclasses.replace(f, title="联系电话") if f.name == "address" else f
        for f in schema.fields
    )
    relabelled = dataclasses.replace(schema, fields=fields)
    (finding,) = pii_scan.personal_columns(relabelled)
    assert (finding.column, finding.kind) == ("address", "personal_column")
