"""Bulk exchange: a granted resource's new batches delivered to the consumer's inbox, audited."""

from __future__ import annotations

import datetime as dt
import hashlib
import uuid

import httpx
import pyarrow as pa
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from basebases.synthetic import people as make_people
from exchange.core.settings import Settings
from exchange.directory import repository as directory
from exchange.platforms.exchange.models import Delivery
from exchange.platforms.sharing.models import Grant
from tests.builders import make_connector, signed_get
from tests.platforms.sharing.builders import (
    CONSUMER,
    DEFAULT_FIELDS,
    PURPOSE,
    Caller,
    grant,
    load,
)
from tests.platforms.sharing.records.test_masking_guarantee import ALL_FIELDS, PERSONAL


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


@pytest.mark.parametrize(
    ("fields", "plain"),
    [(None, []), (["name", "gender", "status"], ["name"])],
    ids=["key-masked", "key-not-granted"],
)
def test_a_grant_without_the_key_in_plain_cannot_subscribe(
    consumer: Caller, provider: Caller, fields: list[str] | None, plain: list[str]
) -> None:
    grant(consumer, provider, fields=fields, plain_fields=plain)
    r = consumer.post("/sharing/v1/subscriptions", json={"resource": "population"})
    assert r.status_code == 403 and r.json()["error"] == "BulkNeedsKeys"
    assert "id_number" in r.json()["detail"] and "snapshots" in r.json()["detail"]


def _fetch_inbox(
    db: Session, settings: Settings, city: TestClient
) -> tuple[dict[str, object], httpx.Response]:
    connector, keys = make_connector(db, settings, department=CONSUMER)
    db.commit()
    (item,) = signed_get(city, str(connector.id), keys, "/exchange/v1/inbox").json()
    target = f"/exchange/v1/inbox/{item['delivery_id']}/payload"
    return item, signed_get(city, str(connector.id), keys, target)


@pytest.mark.both_backends
def test_a_restricted_grant_receives_batches_cut_to_its_fields_and_masked_like_the_api(
    city: TestClient, consumer: Caller, provider: Caller, db: Session, settings: Settings
) -> None:
    grant(consumer, provider, plain_fields=["id_number"])  # name and phone stay masked
    assert consumer.post("/sharing/v1/subscriptions", json={"resource": "population"}).is_success
    people = make_people(5, seed=26)
    batch = load(city, "population", people)

    item, payload = _fetch_inbox(db, settings, city)
    assert payload.status_code == 200
    digest = hashlib.sha256(payload.content).hexdigest()
    assert digest == item["sha256"] == payload.headers["x-batch-sha256"] != batch["sha256"]
    assert int(payload.headers["content-length"]) == item["size_bytes"] == len(payload.content)
    got = pa.ipc.open_stream(payload.content).read_all()
    assert [n for n in got.column_names if n != "_op"] == DEFAULT_FIELDS
    assert "address" not in got.column_names, "fields outside the grant never travel"
    consumer.extra = PURPOSE
    for row in got.to_pylist():
        api = consumer.get(f"/sharing/v1/resources/population/records/{row['id_number']}")
        assert api.status_code == 200, api.text
        assert {k: row[k] for k in DEFAULT_FIELDS} == api.json()["record"]
    sent = {r["id_number"]: r for r in people.to_pylist()}
    assert all(row["name"] != sent[row["id_number"]]["name"] for row in got.to_pylist())


def test_a_grant_of_every_field_in_plain_receives_the_batch_as_published(
    city: TestClient,
    consumer: Caller,
    full_grant: dict[str, object],
    db: Session,
    settings: Settings,
) -> None:
    consumer.post("/sharing/v1/subscriptions", json={"resource": "population"})
    batch = load(city, "population", make_people(3, seed=27))
    item, payload = _fetch_inbox(db, settings, city)
    assert item["sha256"] == batch["sha256"] == hashlib.sha256(payload.content).hexdigest()


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


@pytest.mark.both_backends
def test_a_bulk_download_past_the_grants_rows_per_day_is_429_naming_the_quota(
    city: TestClient, consumer: Caller, provider: Caller, db: Session, settings: Settings
) -> None:
    # Before: deliveries were counted nowhere, so a 10 rows/day grant took any batch in bulk.
    grant(
        consumer, provider, fields=ALL_FIELDS, plain_fields=list(PERSONAL),
        approval={"rows_per_day": 10},
    )  # fmt: skip
    consumer.post("/sharing/v1/subscriptions", json={"resource": "population"})
    load(city, "population", make_people(6, seed=28))
    item, first = _fetch_inbox(db, settings, city)
    assert first.status_code == 200, first.text  # 6 of the day's 10 rows
    connector, keys = make_connector(db, settings, department=CONSUMER)
    db.commit()
    again = signed_get(
        city, str(connector.id), keys, f"/exchange/v1/inbox/{item['delivery_id']}/payload"
    )
    assert again.status_code == 429, again.text  # 6 more would be 12
    assert again.json()["error"] == "QuotaExceeded"
    assert "10 rows per day" in again.json()["detail"] and int(again.headers["retry-after"]) > 0
    assert again.headers["x-quota-rows-remaining"] == "4"
    # an API read of the same grant shares the count: 4 rows are left
    consumer.extra = PURPOSE
    page = consumer.get("/sharing/v1/resources/population/records", params={"limit": 5})
    assert page.status_code == 429 and "rows per day" in page.json()["detail"]
    snap = consumer.get("/sharing/v1/resources/population/snapshots/full")
    assert snap.status_code == 429 and "10 rows per day" in snap.json()["detail"]
    assert [d.state for d in _deliveries(db, settings)] == ["pending"], "kept for a later try"
