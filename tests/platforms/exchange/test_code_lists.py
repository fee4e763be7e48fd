"""A code-list field takes the standard's codes and its names; the code is what is stored."""

from __future__ import annotations

import pyarrow as pa
import pytest
from sqlalchemy import text
from sqlalchemy.orm import Session

from basebases import synthetic
from exchange.core import codelists
from exchange.core.runtime import Runtime
from exchange.core.settings import Settings
from exchange.seed import push_table
from tests.builders import seed_city

pytestmark = pytest.mark.both_backends


def test_gb_t_3304_numbers_the_56_groups() -> None:
    groups = codelists.get("GB/T 3304")
    assert (groups["01"], groups["23"], groups["56"]) == ("汉族", "高山族", "基诺族")
    assert len(groups) == 56
    assert codelists.label("GB/T 3304", "04") == "藏族"


def test_ethnicity_as_code_or_name_is_accepted_and_stored_as_the_code(
    db: Session, settings: Settings, runtime: Runtime
) -> None:
    seed_city(db, settings)
    db.commit()
    people = synthetic.people(4, seed=5, city_code=settings.node_code)
    sent = pa.array(["01", "汉族", "03", "蒙古族"])
    people = people.set_column(people.schema.get_field_index("ethnicity"), "ethnicity", sent)
    result = push_table(runtime, "population", people)
    assert result["status"] == "accepted", result
    stored = db.execute(text("SELECT ethnicity FROM ds_population ORDER BY ethnicity")).scalars()
    assert list(stored) == ["01", "01", "02", "03"]


def test_an_unknown_ethnicity_is_refused(db: Session, settings: Settings, runtime: Runtime) -> None:
    seed_city(db, settings)
    db.commit()
    people = synthetic.people(2, seed=6, city_code=settings.node_code)
    people = people.set_column(
        people.schema.get_field_index("ethnicity"), "ethnicity", pa.array(["99", "火星族"])
    )
    result = push_table(runtime, "population", people)
    assert result["status"] == "quarantined"
