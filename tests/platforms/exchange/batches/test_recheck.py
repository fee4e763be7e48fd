"""`hub batch recheck`: a quarantined batch gated again on its stored payload, after a fix."""

from __future__ import annotations

import uuid

import pyarrow as pa
import pyarrow.compute
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select, text
from sqlalchemy.orm import Session

from exchange.core.resource_schema import SCHEMAS_DIR, load_all
from exchange.core.runtime import Runtime
from exchange.core.signing import KeyPair
from exchange.platforms.exchange.batches import service
from exchange.platforms.exchange.errors import BatchNotQuarantined
from exchange.platforms.exchange.models import Batch, Connector, Receipt
from exchange.seed import division_table
from tests.builders import indicators, load_rows, push

pytestmark = pytest.mark.both_backends


WESTLAKE = "330106000000"


def drop_division(db: Session, code: str) -> pa.Table:
    """Take a division out of the geospatial layer (a registry that lacks it); its row back."""
    layer = division_table("330100000000", load_all(SCHEMAS_DIR)["geo_division"])
    db.execute(text("DELETE FROM ds_geo_division WHERE code = :c"), {"c": code})
    db.commit()
    return layer.filter(pyarrow.compute.equal(layer["code"], code))


def quarantined(client: TestClient, tj: tuple[Connector, KeyPair]) -> uuid.UUID:
    batch_id = uuid.uuid4()
    r = push(client, *tj, indicators(2), batch_id=batch_id)
    assert r.status_code == 422, r.text
    assert {(p["rule"], p["field"]) for p in r.json()["problems"]} == {("reference", "division")}
    return batch_id


def rows_in(db: Session) -> int:
    return db.execute(text("SELECT count(*) FROM ds_macro_indicator")).scalar_one()


def test_a_batch_that_passes_after_the_fix_is_accepted_loaded_and_audited(
    client: TestClient,
    db: Session,
    runtime: Runtime,
    tj: tuple[Connector, KeyPair],
) -> None:
    missing = drop_division(db, WESTLAKE)
    batch_id = quarantined(client, tj)
    load_rows(db, "geo_division", missing)  # the geospatial registry fixed
    db.commit()
    b = service.recheck(db, runtime, batch_id, by="operator:alice")
    db.commit()
    assert b.status == "accepted" and b.rows == 2 and rows_in(db) == 2
    actions = db.scalars(
        select(Receipt.action).where(Receipt.batch_id == batch_id).order_by(Receipt.id)
    ).all()
    assert actions == ["received", "quarantined", "rechecked", "accepted"]
    audit = db.scalars(
        select(Receipt).where(Receipt.batch_id == batch_id, Receipt.action == "rechecked")
    ).one()
    assert audit.detail == {"by": "operator:alice", "failed_rules_before": {"reference": 2}}


def test_a_batch_still_failing_stays_quarantined_with_the_new_problems(
    client: TestClient, db: Session, runtime: Runtime, tj: tuple[Connector, KeyPair]
) -> None:
    drop_division(db, WESTLAKE)
    batch_id = quarantined(client, tj)
    b = service.recheck(db, runtime, batch_id, by="operator:alice")
    db.commit()
    assert b.status == "quarantined" and rows_in(db) == 0
    assert b.gate is not None and b.gate["failures_by_rule"] == {"reference": 2}
    assert [f["row"] for f in b.gate["findings"]] == [1, 2]


def test_only_a_quarantined_batch_is_rechecked(
    client: TestClient, db: Session, runtime: Runtime, tj: tuple[Connector, KeyPair]
) -> None:
    batch_id = uuid.uuid4()
    assert push(client, *tj, indicators(2), batch_id=batch_id).status_code == 201
    with pytest.raises(BatchNotQuarantined, match="is accepted"):
        service.recheck(db, runtime, batch_id, by="operator:alice")
    db.rollback()
    assert db.get(Batch, batch_id).status == "accepted"  # type: ignore[union-attr]
