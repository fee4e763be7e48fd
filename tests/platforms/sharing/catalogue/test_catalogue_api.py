"""/sharing/v1/catalogue: a department catalogues, the bureau reviews and publishes, and the
resource goes live in the same node without a restart: intake, the sharing catalogue, the portal."""

from __future__ import annotations

from typing import Any

import pyarrow as pa
import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from exchange.catalogue import service
from exchange.core.runtime import Runtime
from exchange.core.settings import Settings
from exchange.platforms.sharing.access.principal import Role
from tests.builders import make_connector, push, signed_get
from tests.catalogue.builders import descriptor
from tests.platforms.sharing.builders import Caller, ensure_department, make_caller

V1 = "/sharing/v1/catalogue"


@pytest.fixture
def zrzy(city: TestClient, db: Session, settings: Settings) -> Caller:
    return make_caller(city, db, settings, Role.department, "ZRZY")


@pytest.fixture
def bureau(city: TestClient, db: Session, settings: Settings) -> Caller:
    ensure_department(db, settings, "DSJ", "数据资源管理局")
    db.commit()
    return make_caller(city, db, settings, Role.department, "DSJ")


def _put(caller: Caller, url: str, body: Any) -> Any:
    return caller.http.put(url, json=body, headers=caller.headers)


def _publish(zrzy: Caller, bureau: Caller, d: dict[str, Any] | None = None) -> str:
    r = zrzy.post(V1, json=d or descriptor())
    assert r.status_code == 201, r.text
    code = r.json()["code"]
    assert zrzy.post(f"{V1}/{code}/submit").status_code == 200
    assert bureau.post(f"{V1}/{code}/approve", json={}).status_code == 200
    r = bureau.post(f"{V1}/{code}/publish")
    assert r.status_code == 200, r.text
    return str(code)


def _stops(runtime: Runtime, n: int = 3) -> pa.Table:
    schema = runtime.schemas["bus_stop"].arrow_schema()
    return pa.table(
        {
            "stop_id": [f"S{i:04d}" for i in range(n)],
            "stop_name": [f"文三路{i}号" for i in range(n)],
            "division": ["330106000000"] * n,
            "lines": list(range(n)),
        },
        schema=schema,
    )


def test_a_published_resource_takes_batches_and_is_in_the_sharing_catalogue_at_once(
    city: TestClient,
    db: Session,
    settings: Settings,
    runtime: Runtime,
    zrzy: Caller,
    bureau: Caller,
) -> None:
    code = _publish(zrzy, bureau)
    entry = zrzy.get(f"/sharing/v1/catalog/{code}")
    assert entry.status_code == 200, entry.text
    assert entry.json()["identifier"].startswith("330100/ZRZY/")
    assert entry.json()["status"] == "published"
    connector, keys = make_connector(db, settings, department="ZRZY")
    db.commit()
    r = push(city, connector, keys, _stops(runtime), resource=code, settings=settings)
    assert r.status_code in (200, 201, 202), r.text
    assert r.json()["status"] == "accepted", r.text
    assert city.get(f"/api/3/action/package_show?id={code}").json()["success"] is True
    listed = zrzy.get(V1, params={"status": "published"}).json()
    assert code in {i["code"] for i in listed["items"]}
    assert "population" in {i["code"] for i in listed["items"]}  # built-ins too
    versions = zrzy.get(f"{V1}/{code}/versions/1")
    assert versions.status_code == 200 and versions.json()["descriptor"]["name"] == code


def test_a_draft_takes_no_batch_and_is_seen_only_by_its_department_and_the_bureau(
    city: TestClient,
    db: Session,
    settings: Settings,
    runtime: Runtime,
    zrzy: Caller,
    bureau: Caller,
    consumer: Caller,
) -> None:
    assert zrzy.post(V1, json=descriptor()).status_code == 201
    assert consumer.get(f"{V1}/bus_stop").status_code == 404
    assert bureau.get(f"{V1}/bus_stop").status_code == 200
    connector, keys = make_connector(db, settings, department="ZRZY")
    db.commit()
    table = pa.table({"stop_id": ["S1"]})
    r = push(city, connector, keys, table, resource="bus_stop", settings=settings)
    assert r.status_code == 409, r.text
    assert "draft" in r.json()["detail"]


def test_bad_input_is_a_4xx_naming_the_field_or_rule(
    zrzy: Caller, bureau: Caller, consumer: Caller
) -> None:
    bad = descriptor(fields=[{"name": "stop_id", "type": "text"}])
    r = zrzy.post(V1, json=bad)
    assert r.status_code == 422 and r.json()["problems"][0]["field"] == "fields"
    assert "text" in r.json()["detail"]
    r = zrzy.post(V1, json=descriptor(classification="9"))
    assert r.status_code == 422 and "catalog.classification" in r.json()["detail"]
    assert zrzy.post(V1, json=descriptor()).status_code == 201
    r = consumer.post(f"{V1}/bus_stop/submit")
    assert r.status_code == 403 and "provider department" in r.json()["detail"]
    assert zrzy.post(f"{V1}/bus_stop/submit").status_code == 200
    r = zrzy.post(f"{V1}/bus_stop/approve", json={})
    assert r.status_code == 403 and "bureau" in r.json()["detail"]
    r = bureau.post(f"{V1}/bus_stop/return", json={"reasons": []})
    assert r.status_code == 422
    assert zrzy.get(f"{V1}/bus_stop").json()["review_state"] == "submitted"


def test_a_breaking_version_is_409_naming_the_field(zrzy: Caller, bureau: Caller) -> None:
    code = _publish(zrzy, bureau)
    d = descriptor()
    d["fields"][3]["type"] = "boolean"
    r = _put(zrzy, f"{V1}/{code}", d)
    assert r.status_code == 409 and "'lines'" in r.json()["detail"]
    assert "new resource" in r.json()["detail"]


def test_a_withdrawn_resource_refuses_batches_and_readers_get_410(
    city: TestClient,
    db: Session,
    settings: Settings,
    runtime: Runtime,
    zrzy: Caller,
    bureau: Caller,
    consumer: Caller,
) -> None:
    code = _publish(zrzy, bureau)
    assert city.get(f"/api/3/action/package_show?id={code}").json()["success"] is True
    r = bureau.post(f"{V1}/{code}/withdraw", json={"reason": "数据源停止维护"})
    assert r.status_code == 200 and r.json()["status"] == "withdrawn"
    connector, keys = make_connector(db, settings, department="ZRZY")
    db.commit()
    r = push(city, connector, keys, _stops(runtime), resource=code, settings=settings)
    assert r.status_code == 409 and "withdrawn" in r.json()["detail"]
    r = consumer.get(f"/sharing/v1/resources/{code}/records")
    assert r.status_code == 410, r.text
    events = [e["action"] for e in zrzy.get(f"{V1}/{code}/events").json()]
    assert events[-1] == "withdrawn"
    assert city.get(f"/api/3/action/package_show?id={code}").json()["success"] is False


def test_batches_of_the_previous_version_are_accepted_until_the_grace_deadline(
    city: TestClient,
    db: Session,
    settings: Settings,
    runtime: Runtime,
    zrzy: Caller,
    bureau: Caller,
) -> None:
    code = _publish(zrzy, bureau)
    v1_rows = _stops(runtime)  # written against version 1
    d = descriptor()
    d["fields"].append({"name": "shelter", "type": "boolean", "title": "有无候车亭"})
    d["fields"][3]["type"] = "number"
    assert _put(zrzy, f"{V1}/{code}", d).status_code == 200
    assert zrzy.post(f"{V1}/{code}/submit").status_code == 200
    assert bureau.post(f"{V1}/{code}/approve", json={}).status_code == 200
    v2 = bureau.post(f"{V1}/{code}/publish").json()
    assert v2["number"] == 2 and v2["previous_until"]
    connector, keys = make_connector(db, settings, department="ZRZY")
    db.commit()

    def send(version: str | None, rows: pa.Table = v1_rows) -> Any:
        extra = {"X-Batch-Schema-Version": version} if version else {}
        return push(city, connector, keys, rows, resource=code, settings=settings, headers=extra)

    r = send("1")
    assert r.status_code == 201 and r.json()["status"] == "accepted", r.text
    r = send("3")
    assert r.status_code == 409 and "version 3" in r.json()["detail"]
    r = send("one")
    assert r.status_code == 400 and "X-Batch-Schema-Version" in r.json()["detail"]
    resource = service.get(db, code)
    version = service.version(db, code, 2)
    version.previous_until = version.published_at  # the grace period is over
    db.commit()
    r = send("1")
    assert r.status_code == 409, r.text
    assert "version 1" in r.json()["detail"] and "grace period ended" in r.json()["detail"]
    r = send(None)  # held to version 2: it lacks what version 2 added
    assert r.status_code == 422 and r.json()["problems"][0]["field"] == "lines"
    assert resource.current_version == 2


def test_a_connector_reads_the_version_in_force_from_the_node(
    city: TestClient, db: Session, settings: Settings, zrzy: Caller, bureau: Caller
) -> None:
    code = _publish(zrzy, bureau)
    connector, keys = make_connector(db, settings, department="ZRZY")
    db.commit()
    r = signed_get(city, str(connector.id), keys, f"/exchange/v1/resources/{code}/schema")
    assert r.status_code == 200, r.text
    assert r.json()["version"] == 1 and r.json()["descriptor"]["name"] == code
    r = signed_get(city, str(connector.id), keys, "/exchange/v1/resources/population/schema")
    assert r.status_code == 200 and r.json()["version"] == 1
    r = signed_get(city, str(connector.id), keys, "/exchange/v1/resources/nothing/schema")
    assert r.status_code == 404
    assert city.get(f"/exchange/v1/resources/{code}/schema").status_code == 401
