import os

import pytest
from fastapi.testclient import TestClient
from openapi_spec_validator import validate

from exchange.app import create_app
from exchange.core.settings import Settings
from exchange.testing.postgres import free_port

pytestmark = pytest.mark.both_backends


def test_health_ready_and_openapi(client: TestClient) -> None:
    assert client.get("/healthz").json() == {"status": "ok"}
    ready = client.get("/readyz")
    assert ready.status_code == 200, ready.text
    assert ready.json()["checks"] == {"database": "ok", "store": "ok"}
    spec = client.get("/openapi.json").json()
    validate(spec)
    paths = set(spec["paths"])
    assert {"/exchange/v1/node", "/sharing/v1/catalog", "/api/3/action/package_list"} <= paths
    assert {"/healthz", "/readyz", "/metrics"} <= paths


def test_every_response_carries_a_request_id_and_keeps_a_callers_id(client: TestClient) -> None:
    generated = client.get("/healthz").headers["x-request-id"]
    assert len(generated) == 32 and client.get("/healthz").headers["x-request-id"] != generated
    kept = client.get("/healthz", headers={"X-Request-ID": "trace-42"})
    assert kept.headers["x-request-id"] == "trace-42"
    unsafe = client.get("/healthz", headers={"X-Request-ID": "bad id\n"})
    assert unsafe.headers["x-request-id"] != "bad id\n"


def test_errors_have_one_json_shape(client: TestClient) -> None:
    missing = client.get("/no/such/page", headers={"X-Request-ID": "r-1"})
    assert missing.status_code == 404
    assert missing.json() == {"error": "NotFound", "detail": "Not Found", "request_id": "r-1"}
    invalid = client.post("/sharing/v1/token", data={"client_id": "x"})
    assert invalid.status_code == 422
    body = invalid.json()
    assert body["error"] == "InvalidRequest"
    assert body["detail"].startswith("body.grant_type:")
    assert body["problems"][0]["field"] == "body.grant_type"


def test_metrics_are_prometheus_text_labelled_by_route_template(client: TestClient) -> None:
    client.get("/exchange/v1/nodes/330106000000")
    text = client.get("/metrics").text
    assert "# TYPE hub_http_requests_total counter" in text
    assert 'route="/exchange/v1/nodes/{code}"' in text
    assert "330106000000" not in text


def test_readyz_is_503_with_the_reason_when_the_database_is_unreachable(settings: Settings) -> None:
    dead = settings.model_copy(
        update={"database_url": f"postgresql+psycopg://hub@127.0.0.1:{free_port()}/hub"}
    )
    with TestClient(create_app(dead)) as c:
        r = c.get("/readyz")
    assert r.status_code == 503
    assert r.json()["checks"]["database"].startswith("unreachable: OperationalError")
    assert r.json()["checks"]["store"] == "ok"


def test_readyz_is_503_when_migrations_are_missing(settings: Settings, tmp_path) -> None:  # type: ignore[no-untyped-def]
    empty = settings.model_copy(update={"database_url": f"sqlite:///{tmp_path}/empty.db"})
    with TestClient(create_app(empty)) as c:
        r = c.get("/readyz")
    assert r.status_code == 503
    assert "hub db upgrade" in r.json()["checks"]["database"]


def test_readyz_serves_on_a_newer_schema_and_not_on_an_older_one(
    settings: Settings,
    tmp_path,  # type: ignore[no-untyped-def]
) -> None:
    """Rolling upgrade: the next release's (expand-only) migration has run while this
    release's workers still serve; a database behind this code is not ready."""
    from sqlalchemy import text

    from exchange.core.db import make_engine
    from exchange.core.migrate import upgrade

    url = f"sqlite:///{tmp_path}/rolling.db"
    engine = make_engine(url)
    upgrade(engine)
    db = settings.model_copy(update={"database_url": url})
    for revision, status in (("0999_next_release", 200), ("0006", 503)):
        with engine.begin() as conn:
            conn.execute(text("UPDATE alembic_version SET version_num = :r"), {"r": revision})
        with TestClient(create_app(db)) as c:
            r = c.get("/readyz")
        assert r.status_code == status, r.text
    assert "schema at 0006" in r.json()["checks"]["database"]
    engine.dispose()


def test_a_forked_worker_does_not_repeat_the_request_ids_of_its_parent() -> None:
    from exchange.core import middleware

    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: report its prefix and leave at once
        os.write(write, middleware._ID_PREFIX.encode())
        os._exit(0)
    os.close(write)
    os.waitpid(pid, 0)
    child_prefix = os.read(read, 64).decode()
    os.close(read)
    assert len(child_prefix) == 16 and child_prefix != middleware._ID_PREFIX
