"""The official `ckanapi` client, unchanged, against a real `hub serve` process."""

import ckanapi
import pytest

from tests.platforms.open_data.conftest import LivePortal


@pytest.fixture(scope="module")
def portal(live_portal: LivePortal) -> ckanapi.RemoteCKAN:
    return ckanapi.RemoteCKAN(live_portal.url, user_agent="hub-tests")


def test_listing_searching_and_showing(portal: ckanapi.RemoteCKAN) -> None:
    names = portal.action.package_list()
    assert set(names) == {
        "credit_record",
        "geo_address",
        "geo_division",
        "legal_person",
        "macro_indicator",
    }
    found = portal.action.package_search(q="经济")
    assert [p["name"] for p in found["results"]] == ["macro_indicator"]
    faceted = portal.call_action(
        "package_search",
        {"q": "", "facet.field": ["organization", "res_format"], "rows": 1},
    )
    assert faceted["count"] == 5 and len(faceted["results"]) == 1
    assert faceted["facets"]["res_format"]["csv"] == 4
    pkg = portal.action.package_show(id="legal_person")
    assert pkg["organization"]["title"] == "杭州市市场监督管理局"
    assert {r["format"] for r in pkg["resources"]} == {"CSV", "JSON", "Parquet"}


def test_organizations_and_tags(portal: ckanapi.RemoteCKAN) -> None:
    orgs = portal.action.organization_list(all_fields=True)
    assert {o["name"] for o in orgs} == {"fg", "scjg", "tj", "zrzy"}
    tj = portal.action.organization_show(id="tj", include_datasets=True)
    assert [p["name"] for p in tj["packages"]] == ["macro_indicator"]
    assert "GDP" in portal.action.tag_list()


def test_datastore_search_through_the_client(portal: ckanapi.RemoteCKAN) -> None:
    page = portal.action.datastore_search(
        resource_id="macro_indicator",
        filters={"indicator": "GDP", "division": "330100000000"},
        sort="period asc",
        limit=5,
    )
    assert len(page["records"]) == 5 and page["total"] > 5
    assert [r["period"] for r in page["records"]] == sorted(r["period"] for r in page["records"])
    everything = portal.action.datastore_search(resource_id="geo_address", limit=32000)
    assert len(everything["records"]) == everything["total"] == 500


def test_errors_become_the_clients_exceptions(portal: ckanapi.RemoteCKAN) -> None:
    with pytest.raises(ckanapi.NotFound):
        portal.action.package_show(id="population")
    with pytest.raises(ckanapi.ValidationError) as err:
        portal.action.datastore_search(resource_id="macro_indicator", limit="lots")
    assert "limit" in err.value.error_dict
    with pytest.raises(ckanapi.NotAuthorized):
        portal.action.datastore_search(resource_id="credit_record")
    with pytest.raises(ckanapi.SearchQueryError):
        portal.action.package_search(fq="colour:red")


def test_get_only_clients_work_too(live_portal: LivePortal) -> None:
    getter = ckanapi.RemoteCKAN(live_portal.url, get_only=True)
    result = getter.action.package_search(q="企业")
    assert [p["name"] for p in result["results"]] == ["legal_person"]
