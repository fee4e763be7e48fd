"""The CKAN actions harvesters call beyond search and show, in CKAN 2.10/2.11's shapes, and the
places where our semantics used to differ from CKAN's (rows=0, sorts, datastore formats)."""

import csv
import io

import pytest
from fastapi.testclient import TestClient

from tests.platforms.open_data.ckan.test_ckan_api import error, ok
from tests.platforms.open_data.conftest import COMPANIES
from tests.platforms.open_data.datastore.test_downloads import SERVED_COMPANY_FIELDS

pytestmark = pytest.mark.both_backends
LISTED = {"credit_record", "geo_address", "geo_division", "legal_person", "macro_indicator"}


def test_rows_zero_returns_the_true_count(client: TestClient, loaded: dict[str, int]) -> None:
    counted = ok(client, "package_search", rows=0)
    assert counted["count"] == len(LISTED) and counted["results"] == []
    assert ok(client, "package_search", q="企业", rows=0)["count"] == 1


@pytest.mark.parametrize(
    ("sort", "key", "reverse"),
    [
        ("name asc", "name", False),
        ("name desc", "name", True),
        ("title_string asc", "title", False),
        ("title_string desc", "title", True),
        ("metadata_modified desc", "metadata_modified", True),
        ("metadata_modified asc", "metadata_modified", False),
        ("metadata_created asc", "metadata_created", False),
        ("metadata_created desc", "metadata_created", True),
    ],
)
def test_package_search_sorts_both_ways(
    client: TestClient, loaded: dict[str, int], sort: str, key: str, reverse: bool
) -> None:
    found = ok(client, "package_search", sort=sort, rows=10)
    got = [p[key] or "" for p in found["results"]]
    assert len(got) == len(LISTED) and got == sorted(got, reverse=reverse), sort
    assert found["sort"] == sort


def test_default_sort_is_ckans_and_an_unknown_one_is_named(
    client: TestClient, loaded: dict[str, int]
) -> None:
    default = ok(client, "package_search")
    assert default["sort"] == "score desc, metadata_modified desc"
    modified = [p["metadata_modified"] for p in default["results"]]
    assert modified == sorted(modified, reverse=True)  # no words: every score is equal
    status, err = error(client, "package_search", sort="colour asc")
    assert (status, err["__type"]) == (409, "Validation Error") and "sort" in err


def test_resource_show_and_search(client: TestClient, loaded: dict[str, int]) -> None:
    res = ok(client, "resource_show", id="geo_address-csv")
    assert res["format"] == "CSV" and res["url"].endswith("/datasets/geo_address/download.csv")
    pkg = ok(client, "package_show", id="geo_address")
    assert res["package_id"] == pkg["id"] and res in pkg["resources"]
    status, err = error(client, "resource_show", id="geo_address-xlsx")
    assert (status, err["__type"]) == (404, "Not Found Error")
    found = ok(client, "resource_search", query="format:GeoJSON")
    assert found["count"] == 2
    assert {r["id"] for r in found["results"]} == {"geo_address-geojson", "geo_division-geojson"}
    both = ok(client, "resource_search", query=["format:csv", "url:geo_"])
    assert {r["id"] for r in both["results"]} == {"geo_address-csv", "geo_division-csv"}
    status, err = error(client, "resource_search", query="colour:red")
    assert (status, err["__type"]) == (409, "Validation Error") and "query" in err


def test_current_package_list_with_resources_newest_first(
    client: TestClient, loaded: dict[str, int]
) -> None:
    pkgs = ok(client, "current_package_list_with_resources", limit=3)
    assert len(pkgs) == 3 and all("resources" in p for p in pkgs)
    modified = [p["metadata_modified"] for p in pkgs]
    assert modified == sorted(modified, reverse=True)
    rest = ok(client, "current_package_list_with_resources", limit=10, offset=3)
    assert {p["name"] for p in pkgs + rest} == LISTED


def test_groups_are_the_portals_topics(client: TestClient, loaded: dict[str, int]) -> None:
    names = ok(client, "group_list")
    assert names and names == sorted(names)
    groups = ok(client, "group_list", all_fields=True)
    assert {g["name"] for g in groups} == set(names)
    assert sum(g["package_count"] for g in groups) == len(LISTED)
    assert all(g["type"] == "group" and g["is_organization"] is False for g in groups)
    first = groups[0]
    shown = ok(client, "group_show", id=first["name"], include_datasets=True)
    assert len(shown["packages"]) == first["package_count"]
    assert all(p["groups"][0]["name"] == first["name"] for p in shown["packages"])
    assert ok(client, "group_show", id=first["id"])["name"] == first["name"]  # by id too
    assert error(client, "group_show", id="没有这个主题")[0] == 404


def test_tag_show_license_list_and_autocomplete(client: TestClient, loaded: dict[str, int]) -> None:
    tag = ok(client, "package_show", id="geo_division")["tags"][0]["name"]
    shown = ok(client, "tag_show", id=tag, include_datasets=True)
    assert shown["name"] == tag and "geo_division" in {p["name"] for p in shown["packages"]}
    assert error(client, "tag_show", id="no-such-tag")[0] == 404
    licences = ok(client, "license_list")
    by_id = {lic["id"]: lic for lic in licences}
    assert by_id["CC-BY-4.0"]["url"] == "https://creativecommons.org/licenses/by/4.0/"
    assert {"id", "title", "url", "status", "od_conformance"} <= set(by_id["CC0-1.0"])
    geo = ok(client, "package_autocomplete", q="geo")
    assert [p["name"] for p in geo] == ["geo_address", "geo_division"]
    assert geo[0]["match_field"] == "name"
    by_title = ok(client, "package_autocomplete", q="地址")
    assert by_title[0] == {
        "name": "geo_address",
        "title": "标准地址与兴趣点",
        "match_field": "title",
        "match_displayed": "标准地址与兴趣点",
    }
    assert ok(client, "format_autocomplete", q="json") == ["geojson", "json"]
    orgs = ok(client, "organization_autocomplete", q="自然资源")
    assert [o["name"] for o in orgs] == ["zrzy"] and orgs[0]["title"] == "杭州市规划和自然资源局"
    status, err = error(client, "package_autocomplete")
    assert (status, err["__type"]) == (409, "Validation Error") and "q" in err


def test_activity_streams_come_from_the_catalogue(
    client: TestClient, loaded: dict[str, int]
) -> None:
    pkg = ok(client, "package_show", id="macro_indicator")
    acts = ok(client, "package_activity_list", id="macro_indicator")
    assert acts[0]["activity_type"] == "changed package"
    assert acts[0]["timestamp"] == pkg["metadata_modified"]
    assert acts[-1]["activity_type"] == "new package" and acts[0]["object_id"] == pkg["id"]
    assert acts[0]["data"]["package"]["name"] == "macro_indicator"
    recent = ok(client, "recently_changed_packages_activity_list", limit=3)
    stamps = [a["timestamp"] for a in recent]
    assert len(recent) == 3 and stamps == sorted(stamps, reverse=True)
    assert error(client, "package_activity_list", id="population")[0] == 404


def test_datastore_info_names_fields_and_count(client: TestClient, loaded: dict[str, int]) -> None:
    info = ok(client, "datastore_info", id="legal_person")
    assert info["meta"]["count"] == COMPANIES
    assert [f["id"] for f in info["fields"]] == SERVED_COMPANY_FIELDS
    assert all(f["type"] and "native_type" in f["schema"] for f in info["fields"])
    assert error(client, "datastore_info", id="credit_record")[0] == 403


def test_datastore_search_fields_and_records_formats(
    client: TestClient, loaded: dict[str, int]
) -> None:
    some = ok(
        client, "datastore_search", resource_id="macro_indicator", fields="_id,indicator", limit=2
    )
    assert [f["id"] for f in some["fields"]] == ["_id", "indicator"]
    assert set(some["records"][0]) == {"_id", "indicator"}
    get = client.get(
        "/api/3/action/datastore_search",
        params={"resource_id": "macro_indicator", "fields": "indicator,period", "limit": 2},
    ).json()["result"]
    assert set(get["records"][0]) == {"indicator", "period"}
    lists = ok(
        client,
        "datastore_search",
        resource_id="macro_indicator",
        fields=["indicator", "period"],
        records_format="lists",
        limit=2,
    )
    assert lists["records_format"] == "lists" and len(lists["records"][0]) == 2
    as_csv = ok(
        client,
        "datastore_search",
        resource_id="macro_indicator",
        fields=["indicator", "period"],
        records_format="csv",
        limit=2,
    )
    rows = list(csv.reader(io.StringIO(as_csv["records"])))
    assert rows == [[str(v) for v in row] for row in lists["records"]]
    for params in ({"records_format": "xml"}, {"distinct": True}, {"q": {"colour": "red"}}):
        status, err = error(client, "datastore_search", resource_id="macro_indicator", **params)
        name = next(iter(params))
        assert (status, err["__type"]) == (409, "Validation Error") and name in err, params


def test_datastore_q_per_field(client: TestClient, loaded: dict[str, int]) -> None:
    hospitals = ok(
        client, "datastore_search", resource_id="geo_address", q={"name": "医院"}, limit=500
    )
    assert hospitals["records"] and all("医院" in r["name"] for r in hospitals["records"])
    assert hospitals["total"] == len(hospitals["records"])
    get = client.get(
        "/api/3/action/datastore_search",
        params={"resource_id": "geo_address", "q": '{"name": "医院"}', "limit": 500},
    ).json()["result"]
    assert get["records"] == hospitals["records"]
    anywhere = ok(client, "datastore_search", resource_id="geo_address", q="医院", limit=500)
    assert anywhere["total"] >= hospitals["total"]


def test_datastore_search_sql_runs_one_select_over_public_columns(
    client: TestClient, loaded: dict[str, int]
) -> None:
    got = ok(
        client,
        "datastore_search_sql",
        sql='SELECT indicator, count(*) AS n FROM "macro_indicator" m '
        "WHERE indicator LIKE '%P%' GROUP BY indicator ORDER BY n DESC, indicator",
    )
    assert got["records"] and all("P" in r["indicator"] for r in got["records"])
    assert [f["id"] for f in got["fields"]] == ["indicator", "n"]
    total = sum(r["n"] for r in got["records"])
    rows = ok(client, "datastore_search", resource_id="macro_indicator", limit=32000)["records"]
    assert total == sum("P" in r["indicator"] for r in rows)
    star = ok(client, "datastore_search_sql", sql='SELECT * FROM "legal_person-csv" LIMIT 2')
    assert set(star["records"][0]) == set(SERVED_COMPANY_FIELDS)  # withheld columns unseen
    joined = ok(
        client,
        "datastore_search_sql",
        sql="SELECT count(*) AS n FROM geo_address a JOIN geo_division d ON a.division = d.code",
    )
    assert joined["records"][0]["n"] >= 0


@pytest.mark.parametrize(
    "sql",
    [
        "SELECT pg_sleep(10)",
        'SELECT * FROM "macro_indicator"; DROP TABLE ds_macro_indicator',
        "DELETE FROM macro_indicator",
        'SELECT * INTO stolen FROM "macro_indicator"',
        'SELECT * FROM "macro_indicator" FOR UPDATE',
        "WITH x AS (SELECT 1) SELECT * FROM x",
        "SELECT * FROM pg_catalog.pg_user",
        "SELECT * FROM ds_population",
        "SELECT legal_rep_id_number FROM legal_person",
        "SELECT current_setting('server_version')",
        "SELECT FROM WHERE",
        "",
    ],
)
def test_datastore_search_sql_refuses_everything_else(
    client: TestClient, loaded: dict[str, int], sql: str
) -> None:
    status, err = error(client, "datastore_search_sql", sql=sql)
    assert status in (403, 404, 409), (sql, err)
    if status == 409:
        assert err["__type"] == "Validation Error" and "sql" in err, err
    assert ok(client, "package_search", rows=0)["count"] == len(LISTED)  # still serving


def test_datastore_search_sql_is_time_boxed(
    client: TestClient, loaded: dict[str, int], monkeypatch: pytest.MonkeyPatch
) -> None:
    from exchange.platforms.open_data.ckan import sql

    monkeypatch.setattr(sql, "TIMEOUT_MS", 1)
    slow = "SELECT count(*) AS n FROM geo_address a, geo_address b, geo_address c, geo_address d"
    status, err = error(client, "datastore_search_sql", sql=slow)
    assert (status, err["__type"]) == (409, "Validation Error")
    assert "stopped after 1 ms" in err["message"]


def names(client: TestClient, **params: object) -> set[str]:
    return {p["name"] for p in ok(client, "package_search", rows=100, **params)["results"]}


def test_fq_is_solr_syntax(client: TestClient, loaded: dict[str, int]) -> None:
    assert names(client, fq="organization:zrzy") == {"geo_address", "geo_division"}
    assert names(client, fq="organization:zrzy OR organization:tj") == {
        "geo_address",
        "geo_division",
        "macro_indicator",
    }
    assert names(client, fq="organization:(zrzy OR tj)") == names(
        client, fq="organization:zrzy OR organization:tj"
    )
    assert names(client, fq="-organization:zrzy") == LISTED - {"geo_address", "geo_division"}
    assert names(client, fq="NOT organization:zrzy") == names(client, fq="-organization:zrzy")
    assert names(client, fq="(organization:zrzy AND res_format:GeoJSON) OR name:legal_person") == {
        "geo_address",
        "geo_division",
        "legal_person",
    }
    assert names(client, fq="res_format:geojson -name:geo_division") == {"geo_address"}
    assert names(client, fq="license_id:CC-BY-4.0") <= LISTED
    assert names(client, fq="license_id:no-such-licence") == set()
    assert names(client, fq="name:geo_*") == {"geo_address", "geo_division"}
    assert names(client, fq="*:*") == LISTED
    assert names(client, fq_list=["organization:zrzy", "res_format:csv"]) == {
        "geo_address",
        "geo_division",
    }
    assert names(client, fq="organization:zrzy", fq_list=["-name:geo_address"]) == {"geo_division"}


def test_fq_date_ranges(client: TestClient, loaded: dict[str, int]) -> None:
    assert names(client, fq="metadata_modified:[* TO NOW]") == LISTED
    assert names(client, fq="metadata_modified:[NOW-1DAY TO NOW+1DAY]") == LISTED  # just loaded
    assert names(client, fq="metadata_modified:[2000-01-01T00:00:00Z TO 2001-01-01T00:00:00Z]") == (
        set()
    )
    assert names(client, fq="metadata_created:{* TO NOW+1YEAR}") == LISTED


@pytest.mark.parametrize(
    ("fq", "why"),
    [
        ("colour:red", "unknown field"),
        ("organization:zrzy)", "unexpected"),
        ("(organization:zrzy", "unexpected end"),
        ("metadata_modified:2020", "range"),
        ("metadata_modified:[yesterday TO NOW]", "not a date"),
        ("organization:[a TO b]", "no range"),
    ],
)
def test_fq_errors_name_the_parameter(client: TestClient, city: None, fq: str, why: str) -> None:
    status, err = error(client, "package_search", fq=fq)
    assert (status, err["__type"]) == (400, "Search Query Error")
    assert "fq" in err["message"] and why in err["message"], err
    status, err = error(client, "package_search", fq_list="organization:zrzy")
    assert (status, err["__type"]) == (409, "Validation Error") and "fq_list" in err
