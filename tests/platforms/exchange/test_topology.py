import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from exchange.core.settings import Settings
from tests.builders import seed_city

pytestmark = pytest.mark.both_backends


def test_an_uninitialised_node_says_so(client: TestClient) -> None:
    r = client.get("/exchange/v1/node")
    assert r.status_code == 503
    assert r.json()["error"] == "NodeNotInitialised"


def test_the_city_knows_its_districts(client: TestClient, db: Session, settings: Settings) -> None:
    seed_city(db, settings)
    db.commit()
    topo = client.get("/exchange/v1/node").json()
    assert topo["node"]["name"] == "杭州市" and topo["parent"] is None
    assert "330106000000" in {c["code"] for c in topo["children"]}
    assert client.get("/exchange/v1/nodes/330106000000").json()["name"] == "西湖区"
    unknown = client.get("/exchange/v1/nodes/110101000000")
    assert unknown.status_code == 404 and unknown.json()["error"] == "NodeNotFound"
