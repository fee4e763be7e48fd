"""Console batches: the provider reads every problem of a quarantined batch, downloads the
refused rows, re-sends a fixed file and sees it accepted; lineage with verified receipts;
operators approve and suspend connectors."""

from __future__ import annotations

import csv
import io

import pyarrow as pa
import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from exchange.core.settings import Settings
from exchange.core.signing import KeyPair
from exchange.platforms.exchange.models import Connector
from exchange.platforms.sharing.access.principal import Role
from tests.builders import indicators, make_connector, push, seed_city
from tests.platforms.sharing.builders import console_login, csrf_of, make_user


@pytest.fixture
def tj(db: Session, settings: Settings) -> tuple[Connector, KeyPair]:
    seed_city(db, settings)
    pair = make_connector(db, settings, department="TJ")
    db.commit()
    return pair


@pytest.fixture
def statistician(client: TestClient, db: Session, settings: Settings, tj: object) -> TestClient:
    return console_login(client, make_user(db, settings, Role.department, "TJ"))


def _bad() -> pa.Table:
    divisions = pa.array(["330106000000", "339999000000", "1", "330106000000"])
    return indicators(4).set_column(1, "division", divisions)


@pytest.mark.both_backends
def test_the_provider_reads_every_problem_downloads_the_refused_rows_and_resends(
    client: TestClient, statistician: TestClient, tj: tuple[Connector, KeyPair]
) -> None:
    refused = push(client, *tj, _bad())
    assert refused.status_code == 422
    batch_id = refused.json()["batch"]["batch_id"]
    listing = statistician.get("/console/quarantine?only=quarantined")
    assert listing.status_code == 200 and f"/console/batches/{batch_id}" in listing.text
    page = statistician.get(f"/console/batches/{batch_id}")
    assert page.status_code == 200
    assert "339999000000" in page.text or ">1<" in page.text
    assert page.text.count("<td>division</td>") >= 2, "both bad rows are listed"
    download = statistician.get(f"/console/batches/{batch_id}/refused.csv")
    assert download.status_code == 200 and download.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(download.text.lstrip("\ufeff"))))
    assert [(r["_row"], r["division"]) for r in rows] == [("1", "339999000000"), ("2", "1")]
    assert all("division" in r["_problems"] for r in rows)
    fixed = push(client, *tj, indicators(4))
    assert fixed.status_code == 201
    accepted_id = fixed.json()["batch_id"]
    latest = statistician.get("/console/quarantine").text
    assert f"/console/batches/{accepted_id}" in latest and "accepted" in latest


def test_an_operator_reads_the_problems_but_not_the_rows(
    client: TestClient, db: Session, settings: Settings, tj: tuple[Connector, KeyPair]
) -> None:
    batch_id = push(client, *tj, _bad()).json()["batch"]["batch_id"]
    operator = console_login(client, make_user(db, settings, Role.operator))
    page = operator.get(f"/console/batches/{batch_id}")
    assert page.status_code == 200 and "<td>division</td>" in page.text
    assert "refused.csv" not in page.text
    refused = operator.get(f"/console/batches/{batch_id}/refused.csv")
    assert refused.status_code == 403 and "RoleForbidden" in refused.text


def test_another_department_cannot_see_the_batch(
    client: TestClient, db: Session, settings: Settings, tj: tuple[Connector, KeyPair]
) -> None:
    batch_id = push(client, *tj, _bad()).json()["batch"]["batch_id"]
    other = console_login(client, make_user(db, settings, Role.department, "GA"))
    assert other.get(f"/console/batches/{batch_id}").status_code == 403
    assert f"/console/batches/{batch_id}" not in other.get("/console/quarantine").text
    assert other.get(f"/console/batches/{batch_id}/refused.csv").status_code == 403


def test_the_lineage_shows_each_receipt_verified(
    client: TestClient, statistician: TestClient, tj: tuple[Connector, KeyPair]
) -> None:
    batch_id = push(client, *tj, indicators(2)).json()["batch_id"]
    page = statistician.get(f"/console/batches/{batch_id}")
    assert page.status_code == 200
    assert page.text.count("signature verified") == 2  # received, accepted
    assert "received" in page.text and "accepted" in page.text
    assert statistician.get(f"/console/batches/{batch_id}/refused.csv").status_code == 409


def test_an_operator_approves_and_suspends_a_connector(
    client: TestClient, db: Session, settings: Settings
) -> None:
    seed_city(db, settings)
    connector, _ = make_connector(db, settings, department="TJ", state="registered")
    db.commit()
    operator = console_login(client, make_user(db, settings, Role.operator))
    page = operator.get("/console/connectors")
    url = f"/console/connectors/{connector.id}/approve"
    assert url in page.text
    assert operator.post(url).status_code == 403, "no CSRF token, no change"
    r = operator.post(url, data={"csrf": csrf_of(page)})
    assert r.status_code == 303 and "active" in operator.get(r.headers["location"]).text
    r = operator.post(f"/console/connectors/{connector.id}/suspend", data={"csrf": csrf_of(page)})
    assert r.status_code == 303
    db.expire_all()
    assert db.get(Connector, connector.id).state == "suspended"  # type: ignore[union-attr]
    staff = console_login(client, make_user(db, settings, Role.department, "TJ"))
    assert staff.get("/console/connectors").status_code == 403
