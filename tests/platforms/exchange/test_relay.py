"""The relay retries what the next hop may take later and stops only on a final refusal."""

from __future__ import annotations

import json
import time
from collections.abc import Callable

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from exchange.core.runtime import Runtime
from exchange.core.settings import Settings
from exchange.directory.models import Node
from exchange.pipelines import ops
from exchange.platforms.exchange.batches import service as batches_service
from exchange.platforms.exchange.deliveries import service as deliveries_service
from exchange.platforms.exchange.models import Delivery
from exchange.platforms.exchange.relay import service as relay
from exchange.platforms.exchange.relay.routing import subscribe
from tests.builders import indicators, make_connector, push, seed_city

pytestmark = pytest.mark.both_backends

DISTRICT = "330106000000"
Answer = Callable[[httpx.Request], httpx.Response]


@pytest.fixture
def queued(client: TestClient, db: Session, settings: Settings, runtime: Runtime) -> Delivery:
    """A batch accepted here with one delivery waiting for the district node."""
    seed_city(db, settings)
    provider = make_connector(db, settings, department="TJ")
    subscribe(db, runtime, "macro_indicator", node_code=DISTRICT)
    district = db.get(Node, DISTRICT)
    assert district is not None
    district.url = "http://district.test"
    db.commit()
    assert push(client, *provider, indicators(2)).status_code == 201
    d = db.query(Delivery).filter(Delivery.node_code == DISTRICT).one()
    return d


def send(runtime: Runtime, db: Session, d: Delivery, answer: Answer) -> Delivery:
    with runtime.sessions() as s:  # due now, whatever the backoff said
        s.get(Delivery, d.id).next_attempt_at = d.created_at  # type: ignore[union-attr]
        s.commit()
    with httpx.Client(transport=httpx.MockTransport(answer)) as http:
        relay.run_once(runtime, http)
    db.expire_all()
    got = db.get(Delivery, d.id)
    assert got is not None
    return got


def refusal(status: int, error: str, detail: str, clock_offset_s: float = 0) -> Answer:
    def answer(request: httpx.Request) -> httpx.Response:
        request.read()
        body = {"error": error, "detail": detail, "request_id": "r1"}
        headers = {"X-Hub-Time": f"{time.time() + clock_offset_s:.3f}"}
        return httpx.Response(status, content=json.dumps(body), headers=headers)

    return answer


def accepted(request: httpx.Request) -> httpx.Response:
    request.read()
    return httpx.Response(201, json={"status": "accepted", "batch_id": "x"})


def critical(runtime: Runtime) -> list[str]:
    return [i.kind for i in ops.check_relay(runtime).issues if i.severity == "critical"]


def test_a_clock_skew_refusal_is_retried_with_the_offset_shown(
    runtime: Runtime, db: Session, queued: Delivery
) -> None:
    skewed = refusal(401, "InvalidSignature", "timestamp more than 300 s", clock_offset_s=-412)
    d = send(runtime, db, queued, skewed)
    assert d.state == "pending" and d.attempts == 1
    assert d.last_error is not None and "clock offset to 330106000000: -412 s" in d.last_error
    for _ in range(ops.RETRY_ALARM_ATTEMPTS - 1):
        d = send(runtime, db, d, skewed)
    assert d.state == "pending"
    assert critical(runtime) == ["relay.retrying"]  # alarmed, still retried
    d = send(runtime, db, d, accepted)  # the clock was fixed
    assert d.state == "delivered" and critical(runtime) == []


@pytest.mark.parametrize(
    ("status", "error"),
    [(401, "UnknownKey"), (403, "UnknownCaller"), (503, "NodeNotInitialised"), (500, "X")],
)
def test_key_and_server_troubles_are_retried(
    runtime: Runtime, db: Session, queued: Delivery, status: int, error: str
) -> None:
    d = send(runtime, db, queued, refusal(status, error, "not now"))
    assert d.state == "pending" and d.next_attempt_at > d.created_at


def test_a_timeout_is_retried(runtime: Runtime, db: Session, queued: Delivery) -> None:
    def timeout(request: httpx.Request) -> httpx.Response:
        raise httpx.ReadTimeout("slow", request=request)

    d = send(runtime, db, queued, timeout)
    assert d.state == "pending" and "ReadTimeout" in (d.last_error or "")


def test_a_final_refusal_is_critical_and_an_operator_can_requeue_it(
    runtime: Runtime, db: Session, queued: Delivery
) -> None:
    d = send(runtime, db, queued, refusal(422, "SchemaMismatch", "value: column missing"))
    assert d.state == "rejected"
    issues = [i for i in ops.check_relay(runtime).issues if i.kind == "relay.rejected"]
    assert [i.severity for i in issues] == ["critical"]
    assert "SchemaMismatch: value: column missing" in issues[0].message
    assert f"hub delivery retry {d.id}" in issues[0].message
    with runtime.sessions() as s:
        assert [x.id for x in deliveries_service.retry_deliveries(s, all_rejected=True)] == [d.id]
        s.commit()
    d = send(runtime, db, d, accepted)
    assert d.state == "delivered" and critical(runtime) == []


def test_a_delivered_batch_counts_its_rows_and_bytes_per_node(
    client: TestClient, runtime: Runtime, db: Session, queued: Delivery
) -> None:
    from prometheus_client import REGISTRY

    def sample(name: str, **labels: str) -> float:
        return REGISTRY.get_sample_value(name, labels) or 0.0

    before = {
        "batches": sample("hub_relay_batches_total", node=DISTRICT, resource="macro_indicator"),
        "rows": sample("hub_relay_rows_total", node=DISTRICT),
        "bytes": sample("hub_relay_bytes_total", node=DISTRICT),
    }
    assert send(runtime, db, queued, accepted).state == "delivered"
    batch = batches_service.batch_of(db, queued.batch_id)
    assert sample("hub_relay_batches_total", node=DISTRICT, resource="macro_indicator") == (
        before["batches"] + 1
    )
    assert sample("hub_relay_rows_total", node=DISTRICT) == before["rows"] + 2
    assert sample("hub_relay_bytes_total", node=DISTRICT) == before["bytes"] + batch.size_bytes
