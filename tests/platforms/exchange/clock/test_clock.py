"""The signed clock handshake: a skew is measured, and proven, even when it breaks signatures."""

from __future__ import annotations

import re
import time
from types import SimpleNamespace

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from exchange.core import signing
from exchange.core.runtime import Runtime
from exchange.core.settings import NodeRef, Settings
from exchange.core.signing import KeyPair
from exchange.directory import keys
from exchange.platforms.exchange.clock import service as clock
from tests.builders import make_connector, seed_city, signed_get

WESTLAKE = "330106000000"


@pytest.fixture
def district(db: Session, settings: Settings) -> KeyPair:
    """西湖区's node key, known to the city as a child's."""
    seed_city(db, settings)
    pair = KeyPair.generate()
    keys.ensure(db, keys.KeyOwner(keys.NODE, WESTLAKE), pair.public_b64)
    db.commit()
    return pair


def signed_at(pair: KeyPair, key_id: str, target: str, ts: int) -> dict[str, str]:
    """A request signed by a caller whose clock reads `ts` (another process's clock)."""
    sig = pair.sign(signing.request_message("GET", target, ts, signing.EMPTY_SHA256))
    return {"Authorization": f"{signing.SCHEME} keyId={key_id},ts={ts},sig={sig}"}


def test_a_skewed_node_is_refused_elsewhere_but_answered_by_the_clock(
    client: TestClient, runtime: Runtime, district: KeyPair
) -> None:
    key_id = signing.qualified_key_id(WESTLAKE, district)
    ahead = int(time.time()) + 400  # the district's clock runs 400 s ahead
    target = "/exchange/v1/batches/00000000-0000-0000-0000-000000000000"
    refused = client.get(target, headers=signed_at(district, key_id, target, ahead))
    assert refused.status_code == 401
    # 400 s minus the moments since `ahead` was read, rounded: 399 or 400.
    assert re.search(r"(399|400) s ahead of ours", refused.json()["detail"])

    r = client.get(clock.CLOCK_PATH, headers=signed_at(district, key_id, clock.CLOCK_PATH, ahead))
    assert r.status_code == 200, r.text
    body = r.json()
    # The city answers with its own (unshifted) clock: about 400 s behind the caller's.
    assert body["node"] == runtime.settings.node_code and abs(body["offset_s"] + 400) < 5
    message = signing.clock_message(body["node"], WESTLAKE, body["caller_time"], body["time"])
    assert signing.verify(runtime.node_keys.public_b64, message, body["signature"])


def test_the_handshake_reports_the_offset_only_when_the_answer_verifies(
    client: TestClient, runtime: Runtime, district: KeyPair
) -> None:
    caller = SimpleNamespace(settings=SimpleNamespace(node_code=WESTLAKE), node_keys=district)
    city = NodeRef(
        code=runtime.settings.node_code,
        url="http://testserver",
        public_key=runtime.node_keys.public_b64,
    )
    reading = clock.handshake(caller, city, client)  # type: ignore[arg-type]
    # One process, one clock: no offset (a real skew between processes: tests/test_cluster.py).
    assert reading.offset_s is not None and abs(reading.offset_s) < 2

    impostor = city.model_copy(update={"public_key": KeyPair.generate().public_b64})
    forged = clock.handshake(caller, impostor, client)  # type: ignore[arg-type]
    assert forged.offset_s is None and forged.problem == "the clock answer does not verify"


def test_only_nodes_may_ask_for_the_clock(
    client: TestClient, db: Session, settings: Settings, district: KeyPair
) -> None:
    connector, pair = make_connector(db, settings, department="TJ")
    db.commit()
    r = signed_get(client, str(connector.id), pair, clock.CLOCK_PATH)
    assert r.status_code == 403 and r.json()["error"] == "NodesOnly"


def test_a_clock_offset_is_refused_in_production() -> None:
    from exchange.core.settings import SettingsError, load_settings

    with pytest.raises(SettingsError, match="HUB_CLOCK_OFFSET_S"):
        load_settings(env="production", secret_key="x" * 40, clock_offset_s=400)
