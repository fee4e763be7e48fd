import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from exchange.core.settings import Settings
from tests.builders import seed_city

pytestmark = pytest.mark.both_backends


@pytest.fixture
def seeded(client: TestClient, db: Session, settings: Settings) -> TestClient:
    seed_city(db, settings)
    db.commit()
    return client


def test_a_chinese_keyword_finds_the_resource(seeded: TestClient) -> None:
    page = seeded.get("/sharing/v1/catalog", params={"q": "人口"}).json()
    entry = page["items"][0]  # a title match ranks above abstracts that mention 人口
    assert entry["code"] == "population"
    assert entry["title"] == "人口基础信息"
    assert entry["share_class_label"] == "有条件共享"
    assert entry["provider_name"] == "杭州市公安局"
    assert {
        "name": "id_number",
        "title": "公民身份号码",
        "type": "string",
        "sensitivity": "personal_id",
    } in entry["data_items"]


def test_filter_by_provider_and_share_class(seeded: TestClient) -> None:
    by_provider = seeded.get("/sharing/v1/catalog", params={"provider": "ZRZY"}).json()
    assert {e["code"] for e in by_provider["items"]} == {"geo_division", "geo_address"}
    unconditional = seeded.get("/sharing/v1/catalog", params={"share_class": "unconditional"})
    codes = {e["code"] for e in unconditional.json()["items"]}
    assert "legal_person" in codes and "population" not in codes


def test_paging_reports_the_total(seeded: TestClient) -> None:
    page = seeded.get("/sharing/v1/catalog", params={"limit": 2, "offset": 0}).json()
    assert page["total"] >= 7 and len(page["items"]) == 2


def test_an_unknown_resource_is_a_404_naming_it(seeded: TestClient) -> None:
    r = seeded.get("/sharing/v1/catalog/no_such")
    assert r.status_code == 404
    assert r.json()["error"] == "ResourceNotFound"
    assert "'no_such'" in r.json()["detail"]


def test_an_unknown_share_class_is_a_422_naming_the_parameter(seeded: TestClient) -> None:
    r = seeded.get("/sharing/v1/catalog", params={"share_class": "sometimes"})
    assert r.status_code == 422 and r.json()["problems"][0]["field"] == "query.share_class"
