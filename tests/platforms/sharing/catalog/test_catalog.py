import json
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from exchange.core.resource_schema import SCHEMAS_DIR, load_schema
from exchange.core.settings import Settings
from exchange.directory import repository as directory
from exchange.directory.service import sync_catalog
from exchange.platforms.sharing.access.principal import Role
from tests.builders import seed_city
from tests.platforms.sharing.builders import (
    PROVIDER,
    console_login,
    load_people,
    make_caller,
    make_user,
)

pytestmark = pytest.mark.both_backends


@pytest.fixture
def seeded(client: TestClient, db: Session, settings: Settings) -> TestClient:
    """A government caller: the sharing catalogue is not public."""
    seed_city(db, settings)
    db.commit()
    caller = make_caller(client, db, settings, Role.department, PROVIDER)
    signed = TestClient(client.app)
    signed.headers["Authorization"] = f"Bearer {caller.token}"
    return signed


def test_the_catalogue_needs_a_credential(
    seeded: TestClient, client: TestClient, db: Session, settings: Settings
) -> None:
    for path in ("/sharing/v1/catalog", "/sharing/v1/catalog/population"):
        r = client.get(path)
        assert r.status_code == 401 and r.json()["error"] == "MissingToken", path
        forged = client.get(path, headers={"Authorization": "Bearer not.a.token"})
        assert forged.status_code == 401, path
    browser = console_login(client, make_user(db, settings, Role.auditor))
    assert browser.get("/sharing/v1/catalog", params={"q": "人口"}).json()["total"] >= 1
    assert client.get("/datasets").status_code == 200  # the open catalogue stays public


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


def test_entries_show_last_update_and_a_quality_score(seeded: TestClient) -> None:
    before = seeded.get("/sharing/v1/catalog/population").json()
    assert before["last_updated_at"] is None and before["publishable"] is True
    checks = {c["name"]: c for c in before["quality_checks"]}
    assert checks["standards"]["value"] == 0.0 and checks["complete"]["passed"] is True
    metadata = [c["value"] for name, c in checks.items() if name != "standards"]
    assert before["quality_score"] == pytest.approx(0.5 * sum(metadata) / len(metadata))
    load_people(seeded, 5)  # the intake gate's report is the first standards result
    after = seeded.get("/sharing/v1/catalog/population").json()
    assert after["last_updated_at"] is not None and after["row_count"] == 5
    checks = {c["name"]: c for c in after["quality_checks"]}
    assert checks["standards"]["value"] == 1.0 and checks["standards"]["passed"]
    assert after["quality_score"] == pytest.approx(before["quality_score"] + 0.5)


def test_a_schema_missing_a_required_catalogue_field_stays_a_draft(
    seeded: TestClient, db: Session, settings: Settings, tmp_path: Path
) -> None:
    descriptor = json.loads((SCHEMAS_DIR / "macro_indicator.json").read_text("utf-8"))
    del descriptor["catalog"]["identifier"]
    path = tmp_path / "macro_indicator.json"
    path.write_text(json.dumps(descriptor, ensure_ascii=False), "utf-8")
    node = directory.get_self_node(db)
    assert node is not None
    sync_catalog(db, node, {"macro_indicator": load_schema(path)})
    db.commit()
    entry = seeded.get("/sharing/v1/catalog/macro_indicator").json()
    assert (entry["status"], entry["publishable"]) == ("draft", False)
    assert entry["missing_fields"] == ["资源代码 identifier"]
    listed = TestClient(seeded.app).get("/api/3/action/package_list").json()["result"]
    assert "macro_indicator" not in listed
