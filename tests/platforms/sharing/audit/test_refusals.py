"""Every refused call on a data route leaves an audit entry, under the node's own request id."""

from __future__ import annotations

import pyarrow as pa
import pytest
from fastapi.testclient import TestClient

from tests.platforms.sharing.builders import PURPOSE, Caller, grant, load_people

pytestmark = pytest.mark.both_backends
RECORDS = "/sharing/v1/resources/population/records"


@pytest.fixture
def people(city: TestClient) -> pa.Table:
    return load_people(city, 3)


@pytest.fixture
def reader(consumer: Caller, provider: Caller, people: pa.Table) -> Caller:
    grant(consumer, provider)
    consumer.extra = PURPOSE
    return consumer


def _last(auditor: Caller) -> dict:
    return auditor.get("/sharing/v1/audit", params={"limit": 1000}).json()["items"][-1]


def _refused(r, status: int, error: str) -> None:  # type: ignore[no-untyped-def]
    assert r.status_code == status and r.json()["error"] == error, r.text


def test_a_read_without_its_purpose_is_audited(
    reader: Caller, auditor: Caller, people: pa.Table
) -> None:
    key = people["id_number"][0].as_py()
    r = reader.get(f"{RECORDS}/{key}", headers={"X-Purpose": ""})
    _refused(r, 400, "MissingCallHeader")
    entry = _last(auditor)
    # the actor names the client, then its display name and creator (三员分立)
    assert entry["actor"].startswith(f"client:{reader.client_id} ")
    assert (entry["action"], entry["resource"]) == ("record", "population")
    assert (entry["outcome"], entry["rows"], entry["department"]) == (
        "MissingCallHeader", 0, "330100000000/MZ",
    )  # fmt: skip


def test_a_bad_filter_is_audited(reader: Caller, auditor: Caller) -> None:
    _refused(reader.get(RECORDS, params={"salary": "1"}), 400, "BadFilter")
    entry = _last(auditor)
    assert (entry["action"], entry["outcome"], entry["role"]) == (
        "records",
        "BadFilter",
        "department",
    )


def test_a_tampered_cursor_is_audited(reader: Caller, auditor: Caller) -> None:
    first = reader.get(RECORDS, params={"limit": 1})
    cursor = first.json()["next_cursor"]
    assert cursor
    tampered = cursor[:-2] + ("AA" if cursor[-2:] != "AA" else "BB")
    _refused(reader.get(RECORDS, params={"limit": 1, "cursor": tampered}), 400, "BadCursor")
    assert (_last(auditor)["action"], _last(auditor)["outcome"]) == ("records", "BadCursor")


def test_a_forged_token_is_audited_without_believing_it(
    city: TestClient, reader: Caller, auditor: Caller, people: pa.Table
) -> None:
    head, claims, _ = reader.token.split(".")
    forged = f"{head}.{claims}.{'A' * 86}"
    key = people["id_number"][0].as_py()
    r = city.get(f"{RECORDS}/{key}", headers={"Authorization": f"Bearer {forged}"})
    assert r.status_code == 401
    entry = _last(auditor)
    assert (entry["actor"], entry["role"], entry["department"]) == ("anonymous", "anonymous", None)
    assert (entry["action"], entry["resource"], entry["outcome"]) == (
        "record", "population", r.json()["error"],
    )  # fmt: skip
    anonymous = city.get(f"{RECORDS}/{key}")
    _refused(anonymous, 401, "MissingToken")
    assert _last(auditor)["outcome"] == "MissingToken"


def test_a_bureau_role_on_a_data_route_is_audited(admin: Caller, auditor: Caller) -> None:
    _refused(admin.get(f"{RECORDS}/330106199001011234"), 403, "RoleForbidden")
    entry = _last(auditor)
    assert entry["actor"].startswith(f"client:{admin.client_id} ")
    assert (entry["role"], entry["outcome"]) == ("admin", "RoleForbidden")
    _refused(auditor.get("/sharing/v1/resources/population/events"), 403, "RoleForbidden")
    entry = _last(auditor)
    assert (entry["role"], entry["action"], entry["outcome"]) == (
        "auditor",
        "events",
        "RoleForbidden",
    )


def test_the_entry_carries_the_nodes_request_id_and_the_callers_beside_it(
    reader: Caller, auditor: Caller
) -> None:
    r = reader.get(RECORDS, params={"salary": "1"}, headers={"X-Request-ID": "dept-trace-7"})
    own = r.headers["x-request-id"]
    assert own != "dept-trace-7" and r.json()["request_id"] == own
    assert r.headers["x-caller-request-id"] == "dept-trace-7"
    entry = _last(auditor)
    assert (entry["request_id"], entry["caller_request_id"]) == (own, "dept-trace-7")
    spoofed = reader.get(RECORDS, params={"salary": "1"}, headers={"X-Request-ID": own})
    assert spoofed.headers["x-request-id"] != own, "a caller cannot reuse an id the node gave"
