"""The pipeline's whole-table PII scan and the portal's sample scan: one detector, one verdict.

On PostgreSQL the pipeline scans inside the database (SQL), on SQLite in Python; the portal
reads a sample. Over the same small table all three must name the same columns and kinds.
"""

from __future__ import annotations

import pyarrow as pa
import pytest
from sqlalchemy.orm import Session

from basebases import synthetic
from exchange.core.runtime import Runtime
from exchange.core.settings import Settings
from exchange.pipelines import pii
from exchange.platforms.open_data.datastore import pii_scan
from tests.builders import seed_city
from tests.platforms.open_data.builders import SCHEMAS, load

pytestmark = pytest.mark.both_backends
RIC = "33010619900101123X"


def _with(table: pa.Table, column: str, edit: dict[int, str]) -> pa.Table:
    values = table.column(column).to_pylist()
    for row, suffix in edit.items():
        values[row] += suffix
    return table.set_column(table.schema.get_field_index(column), column, pa.array(values))


def test_both_scans_find_the_same_leaks(db: Session, settings: Settings, runtime: Runtime) -> None:
    seed_city(db, settings)
    db.commit()
    code = settings.node_code
    people = synthetic.people(20, seed=11, city_code=code)
    companies = synthetic.legal_persons(8, seed=11, people=people, city_code=code)
    companies = _with(companies, "address", {1: "（联系人 13912345678）", 5: "，13698765432"})
    companies = _with(companies, "business_scope", {3: f"。负责人李四 {RIC}", 6: "。zs@example.cn"})
    load(runtime, "population", people)
    load(runtime, "legal_person", companies)

    leaks = pii.scan_dataset(db, SCHEMAS["legal_person"])
    found = {(f.column, f.kind): f.count for f in leaks}
    assert found == {
        ("address", "mobile"): 2,
        ("business_scope", "name_with_id"): 1,
        ("business_scope", "resident_id"): 1,
        ("business_scope", "email"): 1,
    }
    named = next(f for f in leaks if f.kind == "name_with_id")
    assert named.example.endswith("* 330106********123X") and "李四" not in named.example
    assert named.key is not None and "****" in named.key  # the row's credit code, masked

    sampled = pii_scan.scan_dataset(db, SCHEMAS["legal_person"], sample_rows=50)
    assert {(f.column, f.kind): f.count for f in sampled} == found


def test_no_false_positive_on_the_demo_citys_public_columns(clean_city: Runtime) -> None:
    """Precision: every public text column of every resource of the seeded demo city (credit
    codes, division codes, addresses, indicator codes ...) holds no personal data, and the
    detector, spaced and full-width forms included, says so."""
    from sqlalchemy import func, select

    from exchange.datastore.tables import tables_for
    from exchange.pipelines import pii
    from exchange.quality import personal_data as pd

    scanned = 0
    leaks = []
    with clean_city.sessions() as session:
        for _, schema in sorted(clean_city.schemas.items()):
            columns = pd.scanned_fields(schema)
            if not columns:
                continue
            current = tables_for(schema).current
            rows = session.scalar(select(func.count()).select_from(current)) or 0
            scanned += rows * len(columns)
            leaks += pii.scan_dataset(session, schema)
    assert scanned > 10_000  # values looked at, not an empty city
    assert leaks == []
