"""Bulk exchange: a granted resource's new batches delivered to the consumer's inbox, audited."""

from __future__ import annotations

import datetime as dt
import uuid

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from basebases.synthetic import people as make_people
from exchange.core.settings import Settings
from exchange.directory import repository as directory
from exchange.platforms.exchange.models import Delivery
from exchange.platforms.sharing.models import Grant
from tests.platforms.sharing.builders import Caller, grant, load
from tests.platforms.sharing.test_masking_guarantee import ALL_FIELDS, PERSONAL


def _deliveries(db: Session, settings: Settings, state: str | None = None) -> list[Delivery]:
    mz = directory.get_department(db, settings.node_code, "MZ")
    assert mz is not None
    stmt = select(Delivery).where(Delivery.department_id == mz.id)
    if state:
        stmt = stmt.where(Delivery.state == state)
    return list(db.scalars(stmt.order_by(Delivery.id)).all())


@pytest.fixture
def full_grant(consumer: Caller, provider: Caller) -> dict[str, object]:
    return grant(consumer, provider, fields=ALL_FIELDS, plain_fields=list(PERSONAL))


def test_subscribing_needs_a_grant(consumer: Caller, city: TestClient) -> None:
    r = consumer.post("/sharing/v1/subscriptions", json={"resource": "population"})
    assert r.status_code == 403 and r.json()["error"] == "NoGrant"


def test_batches_go_out_as_published_so_a_masked_grant_cannot_subscribe(
    consumer: Caller, provider: Caller
) -> None:
    grant(consumer, provider)
    r = consumer.post("/sharing/v1/subscriptions", json={"resource": "population"})
    assert r.status_code == 403 and r.json()["error"] == "BulkNeedsFullGrant"
    assert "address" in r.json()["detail"] and "snapshots" in r.json()["detail"]


@pytest.mark.both_backends
def test_new_batches_reach_the_inbox_and_each_delivery_is_audited(
    city: TestClient,
    consumer: Caller,
    auditor: Caller,
    full_grant: dict[str, object],
    db: Session,
    settings: Settings,
) -> None:
    r = consumer.post("/sharing/v1/subscriptions", json={"resource": "population"})
    assert r.status_code == 201, r.text
    sub = r.json()
    assert sub["grant_id"] == full_grant["grant_id"] and sub["active"] is True
    again = consumer.post("/sharing/v1/subscriptions", json={"resource": "population"})
    assert again.json()["id"] == sub["id"], "subscribing twice is one subscription"
    batch = load(city, "population", make_people(4, seed=21))
    (delivery,) = _deliveries(db, settings, "pending")
    entry = auditor.get("/sharing/v1/audit").json()["items"][-1]
    assert (entry["channel"], entry["action"], entry["rows"]) == ("bulk", "delivery", 4)
    assert entry["keys"] == [str(delivery.batch_id)] and entry["grant_id"] == sub["grant_id"]
    assert batch["rows"] == 4
    listed = consumer.get("/sharing/v1/subscriptions").json()
    assert [s["id"] for s in listed] == [sub["id"]]


def test_revoking_the_grant_stops_deliveries_and_withdraws_queued_ones(
    city: TestClient,
    consumer: Caller,
    provider: Caller,
    full_grant: dict[str, object],
    db: Session,
    settings: Settings,
) -> None:
    consumer.post("/sharing/v1/subscriptions", json={"resource": "population"})
    load(city, "population", make_people(3, seed=22))
    assert len(_deliveries(db, settings, "pending")) == 1
    r = provider.post(
        f"/sharing/v1/grants/{full_grant['grant_id']}/revoke", json={"reason": "用途已结束"}
    )
    assert r.status_code == 200
    assert _deliveries(db, settings, "pending") == [], "queued batches are withdrawn at once"
    load(city, "population", make_people(3, seed=23))
    assert len(_deliveries(db, settings)) == 1, "no new delivery after revocation"
    assert consumer.get("/sharing/v1/subscriptions").json()[0]["active"] is False


def test_unsubscribing_stops_deliveries(
    city: TestClient,
    consumer: Caller,
    full_grant: dict[str, object],
    db: Session,
    settings: Settings,
) -> None:
    sub = consumer.post("/sharing/v1/subscriptions", json={"resource": "population"}).json()
    r = consumer.delete(f"/sharing/v1/subscriptions/{sub['id']}")
    assert r.status_code == 200 and r.json()["active"] is False
    load(city, "population", make_people(3, seed=24))
    assert _deliveries(db, settings) == []
    assert consumer.delete(f"/sharing/v1/subscriptions/{sub['id']}").status_code == 200
    other = consumer.delete("/sharing/v1/subscriptions/00000000-0000-0000-0000-000000000000")
    assert other.status_code == 404


def test_an_expired_grant_delivers_nothing_more(
    city: TestClient,
    consumer: Caller,
    full_grant: dict[str, object],
    db: Session,
    settings: Settings,
) -> None:
    consumer.post("/sharing/v1/subscriptions", json={"resource": "population"})
    db.execute(
        update(Grant)
        .where(Grant.id == uuid.UUID(str(full_grant["grant_id"])))
        .values(expires_at=dt.datetime.now(dt.UTC) - dt.timedelta(seconds=1))
    )
    db.commit()
    load(city, "population", make_people(3, seed=25))
    assert _deliveries(db, settings) == []
    assert consumer.get("/sharing/v1/subscriptions").json()[0]["active"] is False
