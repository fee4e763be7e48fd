"""Departments receive subscribed batches through their connector's inbox, acknowledging each."""

from __future__ import annotations

import hashlib

import pyarrow as pa
import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from exchange.core.runtime import Runtime
from exchange.core.settings import Settings
from exchange.platforms.exchange.relay.routing import subscribe
from tests.builders import indicators, make_connector, push, seed_city, signed_get, signed_post

pytestmark = pytest.mark.both_backends


@pytest.fixture
def parties(db: Session, settings: Settings, runtime: Runtime):  # type: ignore[no-untyped-def]
    seed_city(db, settings)
    provider = make_connector(db, settings, department="TJ")
    consumer = make_connector(db, settings, department="FG")
    other = make_connector(db, settings, department="GA")
    subscribe(db, runtime, "macro_indicator", department="FG")
    db.commit()
    return provider, consumer, other


def test_a_subscribed_department_receives_writes_and_acknowledges(
    client: TestClient,
    parties,  # type: ignore[no-untyped-def]
) -> None:
    provider, (fg, fg_keys), _ = parties
    batch = push(client, *provider, indicators(4)).json()
    assert batch["deliveries"][0]["state"] == "pending"

    inbox = signed_get(client, str(fg.id), fg_keys, "/exchange/v1/inbox").json()
    assert [(i["batch_id"], i["rows"]) for i in inbox] == [(batch["batch_id"], 4)]
    item = inbox[0]
    payload = signed_get(
        client, str(fg.id), fg_keys, f"/exchange/v1/inbox/{item['delivery_id']}/payload"
    )
    assert payload.status_code == 200
    assert hashlib.sha256(payload.content).hexdigest() == item["sha256"]
    table = pa.ipc.open_stream(payload.content).read_all()
    assert table.num_rows == 4

    ack = signed_post(client, str(fg.id), fg_keys, f"/exchange/v1/inbox/{item['delivery_id']}/ack")
    assert ack.json() == {"delivery_id": item["delivery_id"], "state": "delivered"}
    again = signed_post(
        client, str(fg.id), fg_keys, f"/exchange/v1/inbox/{item['delivery_id']}/ack"
    )
    assert again.status_code == 200  # acknowledging twice is harmless
    assert signed_get(client, str(fg.id), fg_keys, "/exchange/v1/inbox").json() == []
    lineage = signed_get(client, str(fg.id), fg_keys, f"/exchange/v1/batches/{batch['batch_id']}")
    actions = [step["action"] for step in lineage.json()["lineage"]]
    assert actions == ["received", "accepted", "queued", "delivered"]


def test_another_departments_delivery_does_not_exist_for_me(
    client: TestClient,
    parties,  # type: ignore[no-untyped-def]
) -> None:
    provider, (fg, fg_keys), (ga, ga_keys) = parties
    push(client, *provider, indicators(2))
    item = signed_get(client, str(fg.id), fg_keys, "/exchange/v1/inbox").json()[0]
    assert signed_get(client, str(ga.id), ga_keys, "/exchange/v1/inbox").json() == []
    stolen = signed_get(
        client, str(ga.id), ga_keys, f"/exchange/v1/inbox/{item['delivery_id']}/payload"
    )
    assert stolen.status_code == 404 and stolen.json()["error"] == "DeliveryNotFound"
    ack = signed_post(client, str(ga.id), ga_keys, f"/exchange/v1/inbox/{item['delivery_id']}/ack")
    assert ack.status_code == 404


def test_a_quarantined_batch_is_not_delivered(
    client: TestClient,
    parties,  # type: ignore[no-untyped-def]
) -> None:
    provider, (fg, fg_keys), _ = parties
    bad = indicators(1).set_column(1, "division", pa.array(["000000000000"]))
    assert push(client, *provider, bad).status_code == 422
    assert signed_get(client, str(fg.id), fg_keys, "/exchange/v1/inbox").json() == []


def test_subscribing_again_changes_nothing(
    client: TestClient,
    db: Session,
    runtime: Runtime,
    parties,  # type: ignore[no-untyped-def]
) -> None:
    provider, _, _ = parties
    first = subscribe(db, runtime, "macro_indicator", node_code="330106000000")
    again = subscribe(db, runtime, "macro_indicator", node_code="330106000000")
    dept_again = subscribe(db, runtime, "macro_indicator", department="FG")
    db.commit()
    assert again.id == first.id and dept_again.department_id is not None
    batch = push(client, *provider, indicators(2)).json()
    targets = sorted(d["node_code"] or "dept" for d in batch["deliveries"])
    assert targets == ["330106000000", "dept"]  # one delivery per destination
