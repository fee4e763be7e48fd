"""Payloads on an S3-compatible store (moto's server on loopback), through the same code path."""

from __future__ import annotations

from collections.abc import Iterator

import boto3
import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from exchange.app import create_app
from exchange.core.runtime import Runtime
from exchange.core.settings import Settings
from exchange.core.store import PayloadStore
from exchange.testing.s3 import moto_server
from tests.builders import indicators, make_connector, push, seed_city

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def s3_endpoint() -> Iterator[str]:
    with moto_server() as url:
        yield url


def s3_store(endpoint: str, prefix: str) -> PayloadStore:
    return PayloadStore(f"s3://hub/{prefix}", endpoint_url=endpoint)


def test_objects_appear_whole_or_not_at_all(s3_endpoint: str) -> None:
    store = s3_store(s3_endpoint, "atomic")
    obj = store.put_stream("batches/a.arrow", [b"x" * (6 * 1024 * 1024), b"tail"])
    assert store.size("batches/a.arrow") == obj.size == 6 * 1024 * 1024 + 4
    with store.open("batches/a.arrow") as fh:
        assert fh.read()[-4:] == b"tail"

    def broken():  # type: ignore[no-untyped-def]
        yield b"y" * (6 * 1024 * 1024)
        raise ConnectionError("client went away")

    with pytest.raises(ConnectionError):
        store.put_stream("batches/b.arrow", broken())
    assert not store.exists("batches/b.arrow")
    store.check()


def test_a_node_keeps_batches_on_s3(
    s3_endpoint: str, settings: Settings, runtime: Runtime, db: Session
) -> None:
    runtime.store = s3_store(s3_endpoint, "city")
    seed_city(db, settings)
    connector = make_connector(db, settings, department="TJ")
    db.commit()
    with TestClient(create_app(settings, runtime=runtime)) as client:
        r = push(client, *connector, indicators(5))
        assert r.status_code == 201, r.text
        assert client.get("/readyz").json()["checks"]["store"] == "ok"
    keys = boto3.client("s3", endpoint_url=s3_endpoint, region_name="us-east-1").list_objects_v2(
        Bucket="hub", Prefix="city/batches/"
    )
    assert [o["Key"].endswith(".arrow") for o in keys["Contents"]] == [True]
