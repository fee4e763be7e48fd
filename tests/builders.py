"""Builders with sensible defaults for test data."""

from __future__ import annotations

import hashlib
import uuid

import httpx
import pyarrow as pa
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from exchange.core import signing
from exchange.core.resource_schema import load_all
from exchange.core.runtime import SCHEMAS_DIR
from exchange.core.settings import Settings
from exchange.core.signing import KeyPair
from exchange.demo import seed_demo_city
from exchange.directory import repository as directory_repo
from exchange.directory.models import Node
from exchange.platforms.exchange.models import Connector


def seed_city(session: Session, settings: Settings) -> Node:
    """The demo city of 杭州市: its districts and the catalogue from schemas/."""
    seed_demo_city(session, settings, load_all(SCHEMAS_DIR))
    node = session.get(Node, settings.node_code)
    assert node is not None
    return node


# -- exchange platform --------------------------------------------------------------------
def make_connector(
    session: Session, settings: Settings, *, department: str = "TJ", state: str = "active"
) -> tuple[Connector, KeyPair]:
    """A connector of a department of the seeded city, with its private key."""
    dept = directory_repo.get_department(session, settings.node_code, department)
    assert dept is not None, f"seed the city first: no department {department}"
    keys = KeyPair.generate()
    connector = Connector(
        department_id=dept.id, name=f"{department} 前置机", public_key=keys.public_b64, state=state
    )
    session.add(connector)
    session.flush()
    return connector, keys


def indicators(n: int = 3, *, value: float = 1.0) -> pa.Table:
    """Valid macro_indicator rows (no personal data, no checksums): GDP of n periods."""
    schema = load_all(SCHEMAS_DIR)["macro_indicator"].arrow_schema()
    return pa.table(
        {
            "indicator": ["GDP"] * n,
            "division": ["330106000000"] * n,
            "period": [str(2000 + i) for i in range(n)],
            "value": [value + i for i in range(n)],
            "unit": ["亿元"] * n,
            "source": ["杭州市统计局"] * n,
        },
        schema=schema,
    )


def arrow_bytes(table: pa.Table) -> bytes:
    sink = pa.BufferOutputStream()
    with pa.ipc.new_stream(sink, table.schema) as writer:
        writer.write_table(table)
    return sink.getvalue().to_pybytes()


def push(
    client: TestClient,
    connector: Connector,
    keys: KeyPair,
    body: bytes | pa.Table,
    *,
    resource: str = "macro_indicator",
    batch_id: uuid.UUID | None = None,
    settings: Settings | None = None,
    headers: dict[str, str] | None = None,
    sign_sha: str | None = None,
) -> httpx.Response:
    """PUT a batch the way `hub connector push` does; `headers` override what is sent."""
    data = arrow_bytes(body) if isinstance(body, pa.Table) else body
    sha = hashlib.sha256(data).hexdigest()
    batch_id = batch_id or uuid.uuid4()
    node = settings.node_code if settings else "330100000000"
    dept = connector_department_code(client, connector)
    origin = f"{node}/{dept}/{connector.id}"
    target = f"/exchange/v1/batches/{batch_id}"
    sent = {
        "Authorization": signing.authorization_header(
            str(connector.id), keys, "PUT", target, sign_sha or sha
        ),
        "Content-Type": "application/vnd.apache.arrow.stream",
        "X-Batch-Resource": resource,
        "X-Batch-SHA256": sign_sha or sha,
        "X-Batch-Signature": keys.sign(
            signing.batch_message(str(batch_id), resource, sign_sha or sha, origin)
        ),
    }
    sent.update(headers or {})
    return client.put(target, content=data, headers=sent)


def connector_department_code(client: TestClient, connector: Connector) -> str:
    rt = client.app.state.runtime  # type: ignore[attr-defined]
    with rt.sessions() as s:
        dept = directory_repo.get_department_by_id(s, connector.department_id)
        assert dept is not None
        return dept.code


def signed_get(client: TestClient, key_id: str, keys: KeyPair, target: str) -> httpx.Response:
    return client.get(
        target, headers={"Authorization": signing.authorization_header(key_id, keys, "GET", target)}
    )


def signed_post(client: TestClient, key_id: str, keys: KeyPair, target: str) -> httpx.Response:
    return client.post(
        target,
        headers={"Authorization": signing.authorization_header(key_id, keys, "POST", target)},
    )
