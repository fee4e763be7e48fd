"""Resource tables: an older layout is brought up to date by `hub db upgrade`."""

from __future__ import annotations

import pyarrow as pa
import pytest
from sqlalchemy import insert, select, text
from sqlalchemy.orm import Session

from exchange.core.resource_schema import SCHEMAS_DIR, load_all
from exchange.datastore.tables import sync_tables, tables_for
from tests.builders import indicators, load_rows

pytestmark = pytest.mark.both_backends


def test_a_history_holding_current_versions_too_is_split_on_upgrade(db: Session) -> None:
    schemas = {"macro_indicator": load_all(SCHEMAS_DIR)["macro_indicator"]}
    rows = indicators(3)
    load_rows(db, "macro_indicator", rows)
    changed = rows.set_column(rows.schema.get_field_index("value"), "value", pa.array([9.0] * 3))
    load_rows(db, "macro_indicator", changed.slice(0, 1))
    versions = tables_for(schemas["macro_indicator"]).versions
    before = db.execute(versions.select().order_by(versions.c._seq)).all()

    # The layout before: the history also held each version in force, open-ended, and the
    # current table had no valid-from time of its own.
    hist = tables_for(schemas["macro_indicator"]).history
    in_force = select(versions).where(versions.c._valid_to.is_(None))
    db.execute(insert(hist).from_select(list(versions.c.keys()), in_force))
    db.execute(text("ALTER TABLE ds_macro_indicator DROP COLUMN _valid_from"))

    changes = sync_tables(db.connection(), schemas)

    assert changes == ["moved ds_macro_indicator__hist's versions in force to ds_macro_indicator"]
    assert db.execute(versions.select().order_by(versions.c._seq)).all() == before
    assert db.execute(text("SELECT count(*) FROM ds_macro_indicator__hist")).scalar_one() == 1
