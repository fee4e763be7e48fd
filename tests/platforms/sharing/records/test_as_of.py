"""Reads in time: a base-registry record as the registry knew it then (`as_of`), through the
registries' own bitemporal lookup, behind the same grant, masking and audit as a read now."""

from __future__ import annotations

import datetime as dt
import time

import pyarrow as pa
import pyarrow.compute as pc
from fastapi.testclient import TestClient

from tests.platforms.sharing.builders import PURPOSE, Caller, grant, load, load_people

RECORDS = "/sharing/v1/resources/population/records"


def _moved_out(table: pa.Table) -> pa.Table:
    status = pc.if_else(pc.equal(table["status"], "living"), "moved_out", "living")
    return table.set_column(table.schema.get_field_index("status"), "status", status)


def test_as_of_returns_the_version_known_then_masked_like_now(
    city: TestClient, consumer: Caller, provider: Caller, auditor: Caller
) -> None:
    people = load_people(city, 3)
    grant(consumer, provider)
    consumer.extra = PURPOSE
    key = people["id_number"][0].as_py()
    before = people["status"][0].as_py()
    time.sleep(0.05)
    then = dt.datetime.now(dt.UTC)
    time.sleep(0.05)
    load(city, "population", _moved_out(people))

    now = consumer.get(f"{RECORDS}/{key}")
    assert now.status_code == 200 and now.json()["record"]["status"] != before
    old = consumer.get(f"{RECORDS}/{key}", params={"as_of": then.isoformat()})
    assert old.status_code == 200, old.text
    body = old.json()
    assert body["record"]["status"] == before
    assert body["version"]["version"] == 1 and body["version"]["recorded_at"] < then.isoformat()
    assert body["record"]["id_number"] == now.json()["record"]["id_number"]  # masked alike
    assert "*" in body["record"]["id_number"] and "id_number" in body["masked_fields"]
    assert "version" not in now.json()

    entries = auditor.get("/sharing/v1/audit", params={"resource": "population"}).json()
    assert entries["items"][-1]["action"] == "record" and entries["items"][-1]["rows"] == 1


def test_as_of_before_the_entity_existed_is_404_and_bad_times_are_400(
    city: TestClient, consumer: Caller, provider: Caller
) -> None:
    long_ago = dt.datetime(2001, 1, 1, tzinfo=dt.UTC).isoformat()
    people = load_people(city, 2)
    grant(consumer, provider)
    consumer.extra = PURPOSE
    url = f"{RECORDS}/{people['id_number'][0].as_py()}"
    assert consumer.get(url, params={"as_of": long_ago}).status_code == 404
    naive = consumer.get(url, params={"as_of": "2026-01-01T00:00:00"})
    assert naive.status_code == 400 and "as_of" in naive.json()["detail"]
    later = (dt.datetime.now(dt.UTC) + dt.timedelta(days=1)).isoformat()
    future = consumer.get(url, params={"valid_at": later})
    assert future.status_code == 400 and "future" in future.json()["detail"]
