import csv
import io
import json

import pyarrow.parquet as pq
import pytest
from fastapi.testclient import TestClient

from basebases import synthetic
from exchange.core.runtime import Runtime
from exchange.platforms.open_data import access
from exchange.platforms.open_data.datastore import exports
from exchange.platforms.open_data.feedback import service as feedback
from tests.platforms.open_data.builders import SCHEMAS, load
from tests.platforms.open_data.conftest import ADDRESSES, COMPANIES

pytestmark = pytest.mark.both_backends
SERVED_COMPANY_FIELDS = [
    "uscc",
    "name",
    "entity_type",
    "registered_capital",
    "established_on",
    "status",
    "address",
    "division",
    "business_scope",
]


def test_csv_has_every_row_and_only_public_columns(
    client: TestClient, loaded: dict[str, int]
) -> None:
    r = client.get("/datasets/legal_person/download.csv")
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/csv")
    assert 'filename="legal_person.csv"' in r.headers["content-disposition"]
    assert r.content.startswith(b"\xef\xbb\xbf")  # BOM: spreadsheets read the Chinese right
    rows = list(csv.DictReader(io.StringIO(r.content.decode("utf-8-sig"))))
    assert len(rows) == COMPANIES
    assert list(rows[0]) == SERVED_COMPANY_FIELDS
    assert all(len(row["uscc"]) == 18 for row in rows)
    assert "X-RateLimit-Remaining" in r.headers


def test_json_parquet_and_geojson_parse_with_every_row(
    client: TestClient, loaded: dict[str, int]
) -> None:
    as_json = client.get("/datasets/macro_indicator/download.json")
    records = json.loads(as_json.content)
    assert len(records) == loaded["macro_indicator"]
    assert set(records[0]) == {"indicator", "division", "period", "value", "unit", "source"}
    parquet = client.get("/datasets/legal_person/download.parquet")
    table = pq.read_table(io.BytesIO(parquet.content))
    assert table.num_rows == COMPANIES and table.column_names == SERVED_COMPANY_FIELDS
    assert str(table.schema.field("established_on").type) == "date32[day]"
    geo = client.get("/datasets/geo_address/download.geojson")
    assert geo.headers["content-type"].startswith("application/geo+json")
    collection = json.loads(geo.content)
    assert collection["type"] == "FeatureCollection"
    assert len(collection["features"]) == ADDRESSES
    feature = collection["features"][0]
    lon, lat = feature["geometry"]["coordinates"]
    assert 118 < lon < 121 and 29 < lat < 31
    assert "longitude" not in feature["properties"] and "name" in feature["properties"]


def test_downloads_are_streamed_in_chunks(
    runtime: Runtime, loaded: dict[str, int], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(exports, "CHUNK_ROWS", 25)
    monkeypatch.setattr(exports, "PARQUET_CHUNK_ROWS", 25)
    schema = SCHEMAS["geo_address"]
    for fmt in ("json", "geojson", "parquet"):
        parts = list(exports.export(runtime.sessions, schema, fmt).body)
        assert len([p for p in parts if p]) >= ADDRESSES // 25, fmt


def test_restricted_closed_and_bad_formats_are_refused(
    client: TestClient, loaded: dict[str, int]
) -> None:
    restricted = client.get("/datasets/credit_record/download.csv")
    assert restricted.status_code == 403
    body = restricted.json()
    assert body["error"] == "DataNotOpen" and "apply at /sharing/v1/applications" in body["detail"]
    assert "X-RateLimit-Remaining" in restricted.headers  # errors carry the limit too
    assert client.get("/datasets/population/download.csv").status_code == 404
    no_geo = client.get("/datasets/macro_indicator/download.geojson")
    assert no_geo.status_code == 400 and "no coordinates" in no_geo.json()["detail"]
    unknown = client.get("/datasets/macro_indicator/download.xlsx")
    assert unknown.status_code == 400 and unknown.json()["detail"].startswith("format:")


def test_the_restricted_access_hook_opens_restricted_data_to_an_approved_key(
    client: TestClient,
    loaded: dict[str, int],
    runtime: Runtime,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    code = runtime.settings.node_code
    people = synthetic.people(30, seed=5, city_code=code)
    companies = synthetic.legal_persons(10, seed=5, people=people, city_code=code)
    load(runtime, "population", people)  # credit subjects must exist in their registries
    load(runtime, "legal_person", companies)
    load(
        runtime,
        "credit_record",
        synthetic.credit_records(12, seed=5, people=people, legal_persons=companies),
    )
    with runtime.sessions() as s:
        key, raw = feedback.issue_api_key(s, label="信用研究", contact="a@example.com")
        s.commit()

    class Approved(access.DenyRestricted):
        def may_read(self, resource_code: str, api_key_id: str | None) -> bool:
            return resource_code == "credit_record" and api_key_id == str(key.id)

    monkeypatch.setattr(access, "RESTRICTED_ACCESS", Approved())
    assert client.get("/datasets/credit_record/download.csv").status_code == 403
    r = client.get("/datasets/credit_record/download.csv", headers={"X-API-Key": raw})
    assert r.status_code == 200
    rows = list(csv.DictReader(io.StringIO(r.content.decode("utf-8-sig"))))
    assert len(rows) == 12 and "subject_code" not in rows[0]  # personal ids stay withheld
