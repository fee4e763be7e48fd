import logging
import os
import re
import sqlite3
import time
from dataclasses import replace

import pytest
from fastapi.testclient import TestClient
from openapi_spec_validator import validate
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

from exchange.app import create_app
from exchange.core import signing
from exchange.core.logging import JSONFormatter
from exchange.core.runtime import Runtime
from exchange.core.settings import NodeRef, Settings
from exchange.platforms.exchange.relay.routing import subscribe
from exchange.testing.postgres import free_port
from tests.builders import indicators, make_connector, push, seed_city

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
    assert kept.headers["x-caller-request-id"] == "trace-42", "kept beside, for tracing"
    assert len(kept.headers["x-request-id"]) == 32, "the node names the request itself"
    unsafe = client.get("/healthz", headers={"X-Request-ID": "bad id\n"})
    assert unsafe.headers["x-request-id"] != "bad id\n"
    assert "x-caller-request-id" not in unsafe.headers


def test_every_response_carries_the_nodes_clock(client: TestClient) -> None:
    sent = time.time()
    answer = client.get("/healthz")
    assert signing.clock_offset(answer.headers, sent, time.time()) == pytest.approx(0, abs=1)


def test_a_signature_from_a_skewed_clock_says_by_how_much(client: TestClient) -> None:
    keys = signing.KeyPair.generate()
    target = "/exchange/v1/inbox"
    header = signing.authorization_header("someone", keys, "GET", target, signing.EMPTY_SHA256)
    stale = re.sub(r"ts=(\d+)", lambda m: f"ts={int(m[1]) - 412}", header)
    refused = client.get(target, headers={"Authorization": stale})
    assert refused.status_code == 401 and refused.json()["error"] == "InvalidSignature"
    assert re.search(r"clock is 41[23] s behind ours", refused.json()["detail"])


def test_errors_have_one_json_shape(client: TestClient) -> None:
    missing = client.get("/no/such/page", headers={"X-Request-ID": "r-1"})
    assert missing.status_code == 404
    own = missing.headers["x-request-id"]
    assert missing.json() == {"error": "NotFound", "detail": "Not Found", "request_id": own}
    invalid = client.post("/sharing/v1/token", data={"client_id": "x"})
    assert invalid.status_code == 422
    body = invalid.json()
    assert body["error"] == "InvalidRequest"
    assert body["detail"].startswith("body.grant_type:")
    assert body["problems"][0]["field"] == "body.grant_type"


class _Lines(logging.Handler):
    """Formats each record when it is emitted, as the node's log does (the id is then known)."""

    def __init__(self) -> None:
        super().__init__()
        self.setFormatter(JSONFormatter())
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(self.format(record))


@pytest.fixture
def error_log() -> object:
    handler = _Lines()
    logger = logging.getLogger("hub.errors")
    logger.addHandler(handler)
    yield handler
    logger.removeHandler(handler)


def test_a_500_names_its_request_id_in_the_body_the_header_and_the_log(
    client: TestClient, error_log: _Lines
) -> None:
    def boom() -> None:
        raise RuntimeError("a bug")

    client.app.router.add_api_route("/test/boom", boom)  # type: ignore[attr-defined]
    r = client.get("/test/boom")
    assert r.status_code == 500
    rid = r.headers["x-request-id"]
    assert r.json() == {
        "error": "InternalError",
        "detail": "an unexpected error occurred; quote the request_id",
        "request_id": rid,
    }
    logged = [line for line in error_log.lines if "a bug" in line]
    assert len(logged) == 1 and f'"request_id": "{rid}"' in logged[0]
    # a caller's own id comes back beside the node's, never instead of it
    quoted = client.get("/test/boom", headers={"X-Request-ID": "t-500"})
    assert quoted.json()["request_id"] == quoted.headers["x-request-id"] != "t-500"
    assert quoted.headers["x-caller-request-id"] == "t-500"


def test_a_database_busy_past_its_timeout_is_a_503_to_retry_not_a_500(client: TestClient) -> None:
    def locked() -> None:
        raise OperationalError(
            "BEGIN IMMEDIATE", {}, sqlite3.OperationalError("database is locked")
        )

    client.app.router.add_api_route("/test/locked", locked)  # type: ignore[attr-defined]
    r = client.get("/test/locked")
    assert r.status_code == 503 and r.headers["retry-after"] == "1"
    assert r.json()["error"] == "DatabaseBusy"
    assert r.json()["request_id"] == r.headers["x-request-id"]


def test_metrics_are_prometheus_text_labelled_by_route_template(client: TestClient) -> None:
    client.get("/exchange/v1/nodes/330106000000")
    text = client.get("/metrics").text
    assert "# TYPE hub_http_requests_total counter" in text
    assert 'route="/exchange/v1/nodes/{code}"' in text
    # A raw path never becomes a label (a neighbour's code may, as the relay counter's node).
    assert 'route="/exchange/v1/nodes/330106000000"' not in text


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


def test_readyz_is_degraded_but_serving_when_the_parent_is_unreachable(
    settings: Settings, runtime: Runtime
) -> None:
    orphan = settings.model_copy(
        update={"parent": NodeRef(code="330000000000", url=f"http://127.0.0.1:{free_port()}")}
    )
    with TestClient(create_app(orphan, runtime=replace(runtime, settings=orphan))) as c:
        r = c.get("/readyz")
    assert r.status_code == 200
    assert r.json()["status"] == "degraded"
    assert r.json()["degraded"][0].startswith("parent 330000000000 unreachable at http://127.0.0.1")


def test_readyz_is_degraded_while_the_relay_backlog_is_past_its_bound(
    client: TestClient, db: Session, settings: Settings, runtime: Runtime
) -> None:
    seed_city(db, settings)
    provider = make_connector(db, settings, department="TJ")
    subscribe(db, runtime, "macro_indicator", node_code="330106000000")
    db.commit()
    push(client, *provider, indicators(2))
    assert client.get("/readyz").json()["status"] == "ready"
    settings.relay_backlog_max = 0
    r = client.get("/readyz")
    assert r.status_code == 200 and r.json()["status"] == "degraded"
    assert r.json()["degraded"] == [
        "relay backlog: 1 deliveries pending, oldest for "
        + r.json()["degraded"][0].split("oldest for ")[1]
    ]
    metrics = client.get("/metrics").text
    assert 'hub_batches_received_total{resource="macro_indicator",status="accepted"}' in metrics
