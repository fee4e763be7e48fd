"""Payloads on an S3-compatible store (moto's server on loopback), through the same code path."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import boto3
import httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from exchange.app import create_app
from exchange.core.runtime import Runtime
from exchange.core.settings import Settings
from exchange.core.store import PayloadStore
from exchange.testing.postgres import free_port
from tests.builders import indicators, make_connector, push, seed_city

pytestmark = pytest.mark.slow
CREDENTIALS = {"AWS_ACCESS_KEY_ID": "hub", "AWS_SECRET_ACCESS_KEY": "hub-secret"}


@pytest.fixture(scope="module")
def s3_endpoint() -> Iterator[str]:
    port = free_port()
    proc = subprocess.Popen(
        [str(Path(sys.executable).parent / "moto_server"), "-p", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while True:
        try:
            httpx.get(url)
            break
        except httpx.TransportError:
            assert time.monotonic() < deadline and proc.poll() is None, "moto did not start"
            time.sleep(0.2)
    saved = {k: os.environ.get(k) for k in CREDENTIALS}
    os.environ.update(CREDENTIALS)
    boto3.client("s3", endpoint_url=url, region_name="us-east-1").create_bucket(Bucket="hub")
    yield url
    for k, v in saved.items():
        if v is None:
            os.environ.pop(k, None)
        else:
            os.environ[k] = v
    proc.terminate()
    proc.wait(timeout=10)


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
