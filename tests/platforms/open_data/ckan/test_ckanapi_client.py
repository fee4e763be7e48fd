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


def test_harvester_actions_through_the_client(portal: ckanapi.RemoteCKAN) -> None:
    """What harvesters (ckanext-harvest, ckanext-dcat, data.gov's) call, in the client's hands."""
    everything = portal.action.current_package_list_with_resources(limit=100)
    assert {p["name"] for p in everything} == {
        "credit_record",
        "geo_address",
        "geo_division",
        "legal_person",
        "macro_indicator",
    }
    res = portal.action.resource_show(id="macro_indicator-csv")
    assert res["format"] == "CSV" and res["url"].startswith(portal.address)
    assert portal.action.package_search(rows=0)["count"] == 5
    assert {lic["id"] for lic in portal.action.license_list()} >= {"CC-BY-4.0"}
    groups = portal.action.group_list(all_fields=True)
    assert sum(g["package_count"] for g in groups) == 5
    info = portal.action.datastore_info(id="macro_indicator")
    assert info["meta"]["count"] > 0 and info["fields"]
    recent = portal.action.recently_changed_packages_activity_list(limit=2)
    assert len(recent) == 2 and recent[0]["timestamp"] >= recent[1]["timestamp"]
    lists = portal.action.datastore_search(
        resource_id="macro_indicator", fields="indicator,period", records_format="lists", limit=2
    )
    assert len(lists["records"]) == 2 and len(lists["records"][0]) == 2
    with pytest.raises(ckanapi.ValidationError) as err:
        portal.action.datastore_search(resource_id="macro_indicator", records_format="xml")
    assert "records_format" in err.value.error_dict
