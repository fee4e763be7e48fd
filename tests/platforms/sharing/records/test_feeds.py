"""Change feed, Parquet snapshots and per-grant quotas."""

from __future__ import annotations

import io

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from fastapi.testclient import TestClient

from tests.platforms.sharing.builders import PURPOSE, Caller, grant, load, load_people

BASE = "/sharing/v1/resources/population"


@pytest.fixture
def people(city: TestClient) -> pa.Table:
    return load_people(city, 12)


@pytest.fixture
def reader(consumer: Caller, provider: Caller, people: pa.Table) -> Caller:
    grant(consumer, provider, approval={"rate_per_minute": 1000, "rows_per_day": 1000})
    consumer.extra = PURPOSE
    return consumer


def _changed(people: pa.Table) -> tuple[pa.Table, pa.Table]:
    """One resident updated (moved out), one deleted."""
    rows = people.slice(0, 2).to_pylist()
    update = pa.Table.from_pylist([rows[0] | {"status": "moved_out"}], schema=people.schema)
    delete = pa.Table.from_pylist([rows[1]], schema=people.schema)
    delete = delete.append_column("_op", pa.array(["delete"], pa.string()))
    return update, delete


@pytest.mark.both_backends
def test_the_change_feed_carries_inserts_updates_and_deletes_in_order(
    reader: Caller, people: pa.Table, city: TestClient
) -> None:
    page = reader.get(f"{BASE}/events", params={"limit": 100}).json()
    assert [e["action"] for e in page["items"]] == ["insert"] * 12
    cursor = page["next_cursor"]
    update, delete = _changed(people)
    load(city, "population", update)
    load(city, "population", delete)
    later = reader.get(f"{BASE}/events", params={"after": cursor}).json()
    actions = [(e["action"], e["version"]) for e in later["items"]]
    assert actions == [("update", 2), ("delete", 2)]
    updated, deleted = later["items"]
    assert updated["record"]["status"] == "moved_out"
    assert deleted["record"] is None
    key = people["id_number"][1].as_py()
    assert deleted["key"] == {"id_number": key[:6] + "********" + key[-4:]}
    seqs = [e["seq"] for e in page["items"] + later["items"]]
    assert seqs == sorted(seqs)
    empty = reader.get(f"{BASE}/events", params={"after": later["next_cursor"]}).json()
    assert empty["items"] == [] and empty["next_cursor"] == later["next_cursor"]


def _parquet(content: bytes) -> pa.Table:
    return pq.read_table(io.BytesIO(content))


@pytest.mark.both_backends
def test_full_and_delta_snapshots_are_masked_parquet_that_chain(
    reader: Caller, people: pa.Table, city: TestClient
) -> None:
    full = reader.get(f"{BASE}/snapshots/full")
    assert (
        full.status_code == 200 and full.headers["content-type"] == "application/vnd.apache.parquet"
    )
    table = _parquet(full.content)
    assert table.num_rows == 12 == int(full.headers["x-snapshot-rows"])
    assert table.column_names == [
        "id_number",
        "name",
        "gender",
        "household_division",
        "phone",
        "status",
    ]
    raw = set(people["id_number"].to_pylist())
    assert not raw & set(table["id_number"].to_pylist()), "ID numbers are masked"
    update, delete = _changed(people)
    load(city, "population", update)
    load(city, "population", delete)
    delta = reader.get(
        f"{BASE}/snapshots/delta", params={"after": full.headers["x-snapshot-cursor"]}
    )
    assert delta.status_code == 200
    changes = _parquet(delta.content)
    assert changes.column_names[:3] == ["_seq", "_action", "_version"]
    assert changes["_action"].to_pylist() == ["update", "delete"]
    assert changes["status"].to_pylist()[0] == "moved_out"
    again = reader.get(f"{BASE}/snapshots/full")
    assert _parquet(again.content).num_rows == 11, "the deleted resident is left out"


def test_a_delta_needs_a_valid_cursor(reader: Caller) -> None:
    assert reader.get(f"{BASE}/snapshots/delta").status_code == 422
    r = reader.get(f"{BASE}/snapshots/delta", params={"after": "x.y"})
    assert r.status_code == 400 and r.json()["error"] == "BadCursor"


def test_the_call_rate_quota_answers_429_with_retry_after(
    consumer: Caller, provider: Caller, people: pa.Table
) -> None:
    grant(consumer, provider, approval={"rate_per_minute": 3})
    consumer.extra = PURPOSE
    url = f"{BASE}/records/{people['id_number'][0].as_py()}"
    answers = [consumer.get(url) for _ in range(8)]
    limited = [r for r in answers if r.status_code == 429]
    assert limited and answers[0].status_code == 200
    r = limited[0]
    assert r.json()["error"] == "QuotaExceeded" and "calls per minute" in r.json()["detail"]
    assert int(r.headers["retry-after"]) >= 1
    assert r.headers["x-ratelimit-limit"] == "3" and r.headers["x-ratelimit-remaining"] == "0"
    assert "record" not in r.json()


def test_the_row_volume_quota_is_per_day(
    consumer: Caller, provider: Caller, people: pa.Table
) -> None:
    grant(consumer, provider, approval={"rows_per_day": 10})
    consumer.extra = PURPOSE
    first = consumer.get(f"{BASE}/records", params={"limit": 8})
    assert first.status_code == 200 and first.headers["x-quota-rows-remaining"] == "2"
    second = consumer.get(
        f"{BASE}/records", params={"limit": 8, "cursor": first.json()["next_cursor"]}
    )
    assert second.status_code == 429 and "rows per day" in second.json()["detail"]
    assert "items" not in second.json()
    small = consumer.get(
        f"{BASE}/records", params={"limit": 2, "cursor": first.json()["next_cursor"]}
    )
    assert small.status_code == 200, "a refused page delivered no rows and charged none"


def test_a_full_snapshot_counts_its_rows_against_the_day(
    consumer: Caller, provider: Caller, people: pa.Table
) -> None:
    grant(consumer, provider, approval={"rows_per_day": 10})
    consumer.extra = PURPOSE
    r = consumer.get(f"{BASE}/snapshots/full")  # 12 residents on a 10-rows-a-day grant
    assert r.status_code == 429 and "rows per day" in r.json()["detail"]
    page = consumer.get(f"{BASE}/records", params={"limit": 10})
    assert page.status_code == 200, "the refused snapshot charged nothing"
    assert consumer.get(f"{BASE}/snapshots/full").status_code == 429
