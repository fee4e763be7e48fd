import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from exchange.core.settings import Settings
from tests.builders import seed_city

pytestmark = pytest.mark.both_backends


def test_only_open_datasets_are_listed(client: TestClient, db: Session, settings: Settings) -> None:
    seed_city(db, settings)
    db.commit()
    page = client.get("/")
    assert page.status_code == 200 and "text/html" in page.headers["content-type"]
    assert "宏观经济指标" in page.text and "法人基础信息" in page.text
    assert "人口基础信息" not in page.text  # closed (禁止开放)
    assert "公共信用信息" not in page.text  # restricted (受限开放) needs an application
    names = client.get("/api/3/action/package_list").json()
    assert names["success"] is True
    assert set(names["result"]) == {
        "geo_address",
        "geo_division",
        "legal_person",
        "macro_indicator",
    }
