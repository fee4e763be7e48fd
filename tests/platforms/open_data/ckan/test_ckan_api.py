"""The CKAN Action API's shapes and errors (the `ckanapi` client itself: test_ckanapi_client)."""

import json
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import update
from sqlalchemy.orm import Session

from exchange.core.settings import Settings
from exchange.directory.models import Resource
from exchange.platforms.open_data import web
from exchange.platforms.open_data.datastore import repository as datastore
from exchange.platforms.open_data.feedback import service as feedback
from tests.platforms.open_data.conftest import COMPANIES
from tests.platforms.open_data.datastore.test_downloads import SERVED_COMPANY_FIELDS

pytestmark = pytest.mark.both_backends


def action(client: TestClient, name: str, **params: Any) -> tuple[int, dict[str, Any]]:
    r = client.post(f"/api/3/action/{name}", json=params)
    assert r.headers["content-type"] == "application/json"
    assert "X-RateLimit-Limit" in r.headers and "X-RateLimit-Remaining" in r.headers
    body = r.json()
    assert body["help"].endswith(f"/api/3/action/help_show?name={name}")
    return r.status_code, body


def ok(client: TestClient, name: str, **params: Any) -> Any:
    status, body = action(client, name, **params)
    assert status == 200 and body["success"] is True, body
    return body["result"]


def error(client: TestClient, name: str, **params: Any) -> tuple[int, dict[str, Any]]:
    status, body = action(client, name, **params)
    assert body["success"] is False and set(body) == {"help", "success", "error"}
    return status, body["error"]


def test_package_search_with_chinese_words_facets_and_paging(
    client: TestClient, loaded: dict[str, int]
) -> None:
    found = ok(client, "package_search", q="企业")
    assert found["count"] == 1 and found["results"][0]["name"] == "legal_person"
    everything = ok(
        client,
        "package_search",
        **{"facet.field": json.dumps(["organization", "tags", "res_format"]), "rows": 2},
    )
    assert everything["count"] == 5 and len(everything["results"]) == 2
    assert everything["facets"]["organization"]["zrzy"] == 2
    assert everything["facets"]["res_format"]["geojson"] == 2
    items = everything["search_facets"]["organization"]["items"]
    assert {"name": "zrzy", "display_name": "杭州市规划和自然资源局", "count": 2} in items
    page2 = ok(client, "package_search", rows=2, start=2)
    assert {p["name"] for p in page2["results"]}.isdisjoint(
        p["name"] for p in everything["results"]
    )
    filtered = ok(client, "package_search", fq='organization:zrzy tags:"区划"')
    assert [p["name"] for p in filtered["results"]] == ["geo_division"]
    assert ok(client, "package_search", q="tags:经济")["results"][0]["name"] == "macro_indicator"
    assert ok(client, "package_search", rows=5000)["count"] == 5  # capped at 1000 like CKAN
    assert ok(client, "package_search", q="天气")["count"] == 0


def test_package_show_has_ckan_fields_and_resources(
    client: TestClient, loaded: dict[str, int], settings: Settings
) -> None:
    pkg = ok(client, "package_show", id="geo_address")
    assert pkg["name"] == "geo_address" and pkg["title"] == "标准地址与兴趣点"
    assert pkg["organization"]["name"] == "zrzy" and pkg["license_id"] == "CC-BY-4.0"
    assert [r["format"] for r in pkg["resources"]] == ["CSV", "JSON", "Parquet", "GeoJSON"]
    assert pkg["resources"][0]["url"] == f"{settings.base_url}/datasets/geo_address/download.csv"
    extras = {e["key"]: e["value"] for e in pkg["extras"]}
    assert extras["open_class"] == "open" and extras["update_cycle"] == "monthly"
    assert extras["classification"] == "10302"
    assert extras["classification_label"] == "基础信息资源类 / 自然资源和空间地理 / 地名地址"
    assert ok(client, "package_show", id=pkg["id"])["name"] == "geo_address"  # by id too
    restricted = ok(client, "package_show", id="credit_record")
    assert [r["format"] for r in restricted["resources"]] == ["HTML"]
    assert "applications/new?resource=credit_record" in restricted["resources"][0]["url"]


def test_organizations_and_tags(client: TestClient, loaded: dict[str, int]) -> None:
    assert ok(client, "organization_list") == ["fg", "scjg", "tj", "zrzy"]
    full = ok(client, "organization_list", all_fields=True)
    assert {o["name"]: o["package_count"] for o in full}["zrzy"] == 2
    org = ok(client, "organization_show", id="zrzy", include_datasets=True)
    assert org["title"] == "杭州市规划和自然资源局"
    assert {p["name"] for p in org["packages"]} == {"geo_address", "geo_division"}
    tags = ok(client, "tag_list")
    assert "经济" in tags and "户籍" not in tags  # 户籍 only tags a closed dataset
    assert set(ok(client, "tag_list", query="地")) == {"地址", "地理", "地理编码"}


def test_datastore_search_filters_sorts_pages_and_counts(
    client: TestClient, loaded: dict[str, int]
) -> None:
    first = ok(client, "datastore_search", resource_id="legal_person")
    assert first["total"] == COMPANIES and first["total_was_estimated"] is False
    assert len(first["records"]) == COMPANIES and first["limit"] == 100
    assert [f["id"] for f in first["fields"]] == ["_id", *SERVED_COMPANY_FIELDS]
    assert set(first["records"][0]) == {"_id", *SERVED_COMPANY_FIELDS}
    gdp = ok(
        client,
        "datastore_search",
        resource_id="macro_indicator-csv",
        filters={"indicator": "GDP", "division": "330100000000"},
        sort="period desc",
        limit=3,
    )
    periods = [r["period"] for r in gdp["records"]]
    assert periods == sorted(periods, reverse=True) and len(periods) == 3
    assert all(r["indicator"] == "GDP" for r in gdp["records"])
    nxt = ok(
        client,
        "datastore_search",
        resource_id="macro_indicator",
        filters=json.dumps({"indicator": ["GDP"], "division": "330100000000"}),
        sort="period desc",
        limit=3,
        offset=3,
    )
    assert nxt["records"][0]["period"] < periods[-1]
    assert nxt["total"] == gdp["total"] > 6
    q = ok(client, "datastore_search", resource_id="geo_address", q="医院", include_total=False)
    assert q["records"] and all("医院" in r["name"] for r in q["records"])
    assert "total" not in q
    capped = ok(client, "datastore_search", resource_id="macro_indicator", limit=99999)
    assert capped["limit"] == 32000


@pytest.mark.parametrize(
    ("params", "status", "kind", "field"),
    [
        ({}, 409, "Validation Error", "resource_id"),
        ({"resource_id": "population"}, 404, "Not Found Error", None),
        ({"resource_id": "credit_record"}, 403, "Authorization Error", None),
        ({"resource_id": "legal_person", "limit": "ten"}, 409, "Validation Error", "limit"),
        ({"resource_id": "legal_person", "offset": -1}, 409, "Validation Error", "offset"),
        ({"resource_id": "legal_person", "filters": "{"}, 409, "Validation Error", "filters"),
        (
            {"resource_id": "legal_person", "filters": {"legal_rep_id_number": "1"}},
            409,
            "Validation Error",
            "filters",
        ),
        (
            {"resource_id": "legal_person", "filters": {"registered_capital": "lots"}},
            409,
            "Validation Error",
            "filters",
        ),
        ({"resource_id": "legal_person", "sort": "name sideways"}, 409, "Validation Error", "sort"),
        ({"resource_id": "legal_person", "fields": ["nope"]}, 409, "Validation Error", "fields"),
    ],
)
def test_datastore_search_errors_say_what_was_wrong(
    client: TestClient,
    loaded: dict[str, int],
    params: dict[str, Any],
    status: int,
    kind: str,
    field: str | None,
) -> None:
    got_status, err = error(client, "datastore_search", **params)
    assert (got_status, err["__type"]) == (status, kind)
    assert err["message"]
    if field:
        assert field in err and err["message"].startswith(field)


def test_other_errors_have_ckan_shapes(client: TestClient, city: None) -> None:
    assert error(client, "package_show", id="population") == (
        404,
        {"__type": "Not Found Error", "message": "Not found: dataset 'population'"},
    )
    status, err = error(client, "package_show")
    assert (status, err["__type"], err["id"]) == (409, "Validation Error", ["Missing value"])
    status, err = error(client, "package_search", fq="colour:red")
    assert (status, err["__type"]) == (400, "Search Query Error")
    status, err = error(client, "package_search", rows=-1)
    assert (status, err["__type"]) == (409, "Validation Error") and "rows" in err
    status, err = error(client, "package_search", **{"facet.field": "organization"})
    assert (status, err["__type"]) == (409, "Validation Error")
    for name, param in (("package_search", "start"), ("package_list", "offset"),
                        ("package_list", "limit")):  # fmt: skip
        status, err = error(client, name, **{param: str(2**63)})  # past any BIGINT: was a 500
        assert (status, err["__type"]) == (409, "Validation Error") and param in err
    status, err = error(client, "datastore_search", resource_id="macro_indicator", offset=2**63)
    assert (status, err["__type"]) == (409, "Validation Error") and "offset" in err
    status, err = error(client, "package_create", title="x")
    assert (status, err["__type"]) == (400, "Bad request") and "package_create" in err["message"]
    bad_json = client.post(
        "/api/3/action/package_list", content=b"{", headers={"content-type": "application/json"}
    )
    assert bad_json.status_code == 400 and "JSON" in bad_json.json()["error"]["message"]


def test_get_works_like_post(client: TestClient, loaded: dict[str, int]) -> None:
    r = client.get(
        "/api/3/action/datastore_search",
        params={"resource_id": "macro_indicator", "filters": '{"indicator":"CPI"}', "limit": 2},
    )
    assert r.status_code == 200 and len(r.json()["result"]["records"]) == 2
    legacy = client.get("/api/action/package_list")  # where ckanapi sends its calls
    assert legacy.json()["success"] is True


def test_past_its_server_time_budget_a_caller_gets_429_in_ckan_shape_and_a_key_lifts_it(
    client: TestClient, city: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(web, "API_BUDGET_MS", 3)  # the first call alone takes longer
    first = client.get("/api/3/action/package_list")
    assert first.status_code == 200 and first.headers["X-RateLimit-Limit"] == "3"
    limited = client.get("/api/3/action/package_list")
    assert limited.status_code == 429
    assert limited.json()["error"]["__type"] == "Rate Limit Error"
    assert int(limited.headers["Retry-After"]) >= 1 and limited.headers["X-RateLimit-Limit"] == "3"
    page = client.get("/developers")
    token = page.text.split('name="csrf_token" value="', 1)[1].split('"', 1)[0]
    created = client.post(
        "/developers/keys",
        data={"label": "交通研究", "contact": "dev@example.com", "csrf_token": token},
    )
    key = created.text.split('<code id="api-key">', 1)[1].split("<", 1)[0]
    with_key = client.get("/api/3/action/package_list", headers={"X-CKAN-API-Key": key})
    assert with_key.status_code == 200
    factor = feedback.KEY_RATE_PER_MINUTE // web.LIMITS["api"]
    assert with_key.headers["X-RateLimit-Limit"] == str(3 * factor)
    wrong = client.get("/api/3/action/package_list", headers={"X-CKAN-API-Key": "od_nope"})
    assert wrong.status_code == 403 and wrong.json()["error"]["__type"] == "Authorization Error"


def test_totals_never_count_a_big_table(
    client: TestClient,
    loaded: dict[str, int],
    db: Session,
    backend: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Unfiltered: the catalogue's running count, whatever count(*) would say.
    db.execute(update(Resource).where(Resource.code == "geo_address").values(row_count=9_999_999))
    db.commit()
    total = ok(client, "datastore_search", resource_id="geo_address", limit=1)
    assert (total["total"], total["total_was_estimated"]) == (9_999_999, False)
    # Filtered: counted exactly up to a cap, then the planner's estimate (PostgreSQL).
    monkeypatch.setattr(datastore, "COUNT_CAP", 10)
    many = ok(client, "datastore_search", resource_id="geo_address", q="杭州", limit=1)
    if backend == "postgresql":
        assert many["total_was_estimated"] is True and many["total"] > 10
    else:
        assert many["total_was_estimated"] is False and many["total"] > 10
    few = ok(
        client,
        "datastore_search",
        resource_id="geo_address",
        filters={"kind": "hospital"},
        limit=1,
    )
    assert few["total_was_estimated"] is False and few["total"] <= 10
