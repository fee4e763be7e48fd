"""The records API: keyed lookup, filters on indexed fields, keyset paging, granted fields only."""

from __future__ import annotations

import base64

import pyarrow as pa
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import event, func, select
from sqlalchemy.engine import Engine

from exchange.core.runtime import Runtime
from exchange.core.sealed import seal_value, sealing_key
from exchange.datastore.tables import tables_for
from tests.platforms.sharing.builders import PURPOSE, Caller, grant, load, load_people

RECORDS = "/sharing/v1/resources/population/records"


@pytest.fixture
def people(city: TestClient) -> pa.Table:
    return load_people(city, 30)


@pytest.fixture
def reader(consumer: Caller, provider: Caller, people: pa.Table) -> Caller:
    grant(consumer, provider)
    consumer.extra = PURPOSE
    return consumer


def _ids(table: pa.Table) -> list[str]:
    return [str(v) for v in table["id_number"].to_pylist()]


@pytest.mark.both_backends
def test_a_keyed_lookup_returns_the_granted_fields_masked(reader: Caller, people: pa.Table) -> None:
    row = people.slice(0, 1).to_pylist()[0]
    r = reader.get(f"{RECORDS}/{row['id_number']}")
    assert r.status_code == 200, r.text
    record = r.json()["record"]
    assert set(record) == {"id_number", "name", "gender", "household_division", "phone", "status"}
    assert record["id_number"] == row["id_number"][:6] + "********" + row["id_number"][-4:]
    assert record["name"] == row["name"][0] + "*" * (len(row["name"]) - 1)
    assert record["household_division"] == row["household_division"]
    assert r.json()["masked_fields"] == ["id_number", "name", "gender", "phone"]
    assert int(r.headers["x-ratelimit-limit"]) == 600
    assert int(r.headers["x-ratelimit-remaining"]) == 599


def test_plain_values_only_where_the_grant_allows_them(
    consumer: Caller, provider: Caller, people: pa.Table
) -> None:
    grant(consumer, provider, plain_fields=["name", "phone"])
    consumer.extra = PURPOSE
    row = next(r for r in people.to_pylist() if r["phone"])
    record = consumer.get(f"{RECORDS}/{row['id_number']}").json()["record"]
    assert (record["name"], record["phone"]) == (row["name"], row["phone"])
    assert record["id_number"] != row["id_number"]


def test_a_missing_key_is_404_and_still_audited(reader: Caller, auditor: Caller) -> None:
    r = reader.get(f"{RECORDS}/11010519491231002X")
    assert r.status_code == 404 and r.json()["error"] == "RecordNotFound"
    entries = auditor.get("/sharing/v1/audit", params={"resource": "population"}).json()["items"]
    assert entries[-1]["keys"] == ["11010519491231002X"] and entries[-1]["rows"] == 0


def test_fields_outside_the_grant_are_omitted_and_naming_one_is_403(
    reader: Caller, people: pa.Table
) -> None:
    key = _ids(people)[0]
    assert "address" not in reader.get(f"{RECORDS}/{key}").json()["record"]
    r = reader.get(f"{RECORDS}/{key}", params={"fields": "name,address"})
    assert r.status_code == 403 and r.json()["error"] == "FieldNotGranted"
    assert "address" in r.json()["detail"]
    only = reader.get(f"{RECORDS}/{key}", params={"fields": "status"}).json()["record"]
    assert list(only) == ["status"]


@pytest.mark.both_backends
def test_filters_on_indexed_fields(reader: Caller, people: pa.Table) -> None:
    division = people["household_division"][0].as_py()
    expected = sum(1 for d in people["household_division"].to_pylist() if d == division)
    r = reader.get(RECORDS, params={"household_division": division, "limit": 100})
    assert r.status_code == 200
    items = r.json()["items"]
    assert len(items) == expected and all(i["household_division"] == division for i in items)
    both = reader.get(RECORDS, params=[("status", "living"), ("status", "deceased")])
    assert both.status_code == 200


@pytest.mark.parametrize(
    ("params", "status", "error", "words"),
    [
        ({"birth_date": "1990-01-01"}, 400, "BadFilter", "not indexed"),
        ({"salary": "1"}, 400, "BadFilter", "no such field"),
        ({"status": "alive"}, 400, "BadFilter", "one of"),
        ({"household_division": "3301"}, 400, "BadFilter", "format"),
        ({"cursor": "not-a-cursor"}, 400, "BadCursor", "cursor"),
        ({"cursor": "eyJyIjoicG9wdWxhdGlvbiJ9.AAAAAAAAAAAAAAAA"}, 400, "BadCursor", "altered"),
        ({"limit": "5000"}, 400, "BadFilter", "limit"),
    ],
)
def test_bad_queries_are_400_naming_the_problem(
    reader: Caller, params: dict[str, str], status: int, error: str, words: str
) -> None:
    r = reader.get(RECORDS, params=params)
    assert r.status_code == status, r.text
    assert r.json()["error"] == error and words in r.json()["detail"]


def test_a_filter_on_a_field_outside_the_grant_is_403(
    consumer: Caller, provider: Caller, people: pa.Table
) -> None:
    grant(consumer, provider, fields=["name", "status"])
    consumer.extra = PURPOSE
    r = consumer.get(RECORDS, params={"household_division": "330106000000"})
    assert r.status_code == 403 and r.json()["error"] == "FieldNotGranted"
    r = consumer.get(f"{RECORDS}/{_ids(people)[0]}")
    assert r.status_code == 403 and "key" in r.json()["detail"]


@pytest.mark.parametrize(
    "value",
    [
        "' OR '1'='1",
        "330106199001011234'; DROP TABLE ds_population; --",
        "{{7*7}}",
        "${7*7}",
        "330106%' UNION SELECT name FROM console_user --",
    ],
)
def test_injection_in_filters_is_refused_before_any_sql_runs(
    reader: Caller, engine: Engine, runtime: Runtime, value: str
) -> None:
    seen: list[str] = []

    def watch(conn, cursor, statement, params, context, executemany):  # type: ignore[no-untyped-def]
        seen.append(statement)

    event.listen(engine, "before_cursor_execute", watch)
    try:
        for params in ({"id_number": value}, {"household_division": value}):
            r = reader.get(RECORDS, params=params)
            assert r.status_code == 400 and r.json()["error"] == "BadFilter"
            assert "49" not in r.json()["detail"]
        r = reader.get(f"{RECORDS}/{value}")
        assert r.status_code in (400, 404) and "49" not in r.json()["detail"]
    finally:
        event.remove(engine, "before_cursor_execute", watch)
    assert not [s for s in seen if "ds_population" in s], "no query of the data ran"
    with runtime.sessions() as s:
        t = tables_for(runtime.schemas["population"]).current
        assert s.scalar(select(func.count()).select_from(t)) == 30


def test_free_text_filters_are_bound_values_matched_literally(
    consumer: Caller, city: TestClient
) -> None:
    from basebases.synthetic import legal_persons, people

    representatives = people(20, seed=3)
    load(city, "population", representatives)  # representatives must be known residents
    table = legal_persons(5, seed=3, people=representatives)
    load(city, "legal_person", table)
    grant(consumer, consumer, "legal_person", fields=["uscc", "name"])
    r = consumer.get("/sharing/v1/resources/legal_person/records", params={"name": "' OR '1'='1"})
    assert r.status_code == 200 and r.json()["items"] == []
    name = table["name"][0].as_py()
    hit = consumer.get("/sharing/v1/resources/legal_person/records", params={"name": name})
    assert [i["name"] for i in hit.json()["items"]] == [name]


@pytest.mark.both_backends
def test_keyset_paging_is_stable_under_concurrent_writes(
    reader: Caller, people: pa.Table, city: TestClient
) -> None:
    from basebases.synthetic import people as make_people

    seen: list[str] = []
    r = reader.get(RECORDS, params={"limit": 7, "fields": "id_number,status"})
    seen += [i["id_number"] for i in r.json()["items"]]
    # Between pages: new residents arrive, one who was already seen is updated.
    load(city, "population", make_people(10, seed=99))
    first = people.slice(0, 1).to_pylist()[0] | {"status": "moved_out"}
    load(city, "population", pa.Table.from_pylist([first], schema=people.schema))
    cursor = r.json()["next_cursor"]
    while cursor:
        r = reader.get(RECORDS, params={"limit": 7, "cursor": cursor, "fields": "id_number"})
        assert r.status_code == 200
        seen += [i["id_number"] for i in r.json()["items"]]
        cursor = r.json()["next_cursor"]
    assert len(seen) == len(set(seen)), "no record appears twice"
    masked = {i[:6] + "********" + i[-4:] for i in _ids(people)}
    assert masked <= set(seen), "no record present throughout is skipped"


def test_a_cursor_only_continues_the_query_it_came_from(reader: Caller) -> None:
    first = reader.get(RECORDS, params={"limit": 2, "status": "living"}).json()
    r = reader.get(RECORDS, params={"limit": 2, "cursor": first["next_cursor"]})
    assert r.status_code == 400 and "other filters" in r.json()["detail"]
    r = reader.get(
        "/sharing/v1/resources/population/events", params={"after": first["next_cursor"]}
    )
    assert r.status_code == 400 and r.json()["error"] == "BadCursor"


def _opened(token: str) -> bytes:
    """What a caller can read out of a cursor without the node's key."""
    text = token.split(".")[0] if "." in token else token
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def test_a_cursor_reveals_no_key_the_grant_masks(reader: Caller, people: pa.Table) -> None:
    ids = set(_ids(people))
    seen: set[str] = set()
    cursor = None
    while True:
        params = {"limit": 1, "fields": "status"} | ({"cursor": cursor} if cursor else {})
        page = reader.get(RECORDS, params=params).json()
        cursor = page["next_cursor"]
        if not cursor:
            break
        raw = _opened(cursor)
        seen |= {i for i in ids if i.encode() in raw or i[6:14].encode() in raw}
    assert seen == set(), "ID numbers recovered from next_cursor"


def test_a_cursor_of_another_node_is_400_naming_the_parameter(reader: Caller) -> None:
    foreign = seal_value(sealing_key("another node's secret", "cursor"), {"r": "population"})
    r = reader.get(RECORDS, params={"cursor": foreign})
    assert r.status_code == 400 and r.json()["error"] == "BadCursor"
    assert "cursor" in r.json()["detail"]


def test_conditional_resources_need_purpose_and_case_number(
    reader: Caller, people: pa.Table
) -> None:
    url = f"{RECORDS}/{_ids(people)[0]}"
    for header in ("X-Purpose", "X-Case-Number"):
        headers = {k: v for k, v in PURPOSE.items() if k != header}
        reader.extra = headers
        r = reader.get(url)
        assert r.status_code == 400 and header in r.json()["detail"]
    reader.extra = PURPOSE | {"X-Case-Number": "<script>"}
    r = reader.get(url)
    assert r.status_code == 400 and r.json()["error"] == "BadCallHeader"


def test_unconditional_resources_need_no_call_headers(consumer: Caller, city: TestClient) -> None:
    from basebases.synthetic import legal_persons, people

    representatives = people(10, seed=4)
    load(city, "population", representatives)
    table = legal_persons(3, seed=4, people=representatives)
    load(city, "legal_person", table)
    grant(consumer, consumer, "legal_person", fields=["uscc", "name", "legal_rep_id_number"])
    uscc = table["uscc"][0].as_py()
    r = consumer.get(f"/sharing/v1/resources/legal_person/records/{uscc}")
    assert r.status_code == 200
    rep = table["legal_rep_id_number"][0].as_py()
    assert r.json()["record"]["legal_rep_id_number"] == rep[:6] + "********" + rep[-4:]


def test_a_valid_credential_without_a_grant_is_403(consumer: Caller, people: pa.Table) -> None:
    consumer.extra = PURPOSE
    r = consumer.get(f"{RECORDS}/{_ids(people)[0]}")
    assert r.status_code == 403 and r.json()["error"] == "NoGrant"
    r = consumer.get("/sharing/v1/resources/no_such/records")
    assert r.status_code == 404 and r.json()["error"] == "ResourceNotFound"


def test_allowed_answers_exactly_what_may_be_called(reader: Caller, consumer: Caller) -> None:
    body = reader.get("/sharing/v1/allowed").json()
    assert body["department"] == "330100000000/MZ"
    (population,) = body["resources"]
    assert population["resource"] == "population"
    assert population["masked_fields"] == ["id_number", "name", "gender", "phone"]
    assert population["filterable_fields"] == ["id_number", "household_division", "status"]
    assert population["required_headers"] == ["X-Purpose", "X-Case-Number"]
    paths = {c["path"] for c in population["calls"]}
    assert "/sharing/v1/resources/population/records/{key}" in paths
    for call in population["calls"]:
        path = call["path"].replace("{key}", "330106199001011234")
        if path.endswith("/delta"):
            continue  # needs a cursor
        assert reader.get(path).status_code in (200, 404), path
