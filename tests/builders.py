"""Builders with sensible defaults for test data."""

from __future__ import annotations

import hashlib
import json
import os
import uuid

import httpx
import pyarrow as pa
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from exchange.core import signing
from exchange.core.db import utcnow
from exchange.core.resource_schema import SCHEMAS_DIR, load_all
from exchange.core.runtime import Runtime
from exchange.core.settings import Settings
from exchange.core.signing import KeyPair
from exchange.datastore.loader import BatchLoader
from exchange.datastore.tables import tables_for
from exchange.demo import seed_demo_city
from exchange.directory import keys as key_sets
from exchange.directory import repository as directory_repo
from exchange.directory.models import Node
from exchange.platforms.exchange.models import Connector
from exchange.seed import division_table


def seed_city(session: Session, settings: Settings) -> Node:
    """The demo city of 杭州市: its districts, the catalogue and the division layer."""
    schemas = load_all(SCHEMAS_DIR)
    seed_demo_city(session, settings, schemas)
    node = session.get(Node, settings.node_code)
    assert node is not None
    load_rows(session, "geo_division", division_table(node.code, schemas["geo_division"]))
    return node


def load_rows(session: Session, resource: str, table: pa.Table) -> None:
    """Put rows straight into a resource's tables (no gate): for setting up a scene."""
    loader = BatchLoader(
        session.connection(),
        tables_for(load_all(SCHEMAS_DIR)[resource]),
        batch_id=uuid.uuid4(),
        recorded_at=utcnow(),
    )
    for rb in table.to_batches():
        loader.stage(rb)
    loader.apply()


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
    key_sets.add(session, key_sets.KeyOwner(key_sets.CONNECTOR, str(connector.id)), keys.public_b64)
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


def signed_post_json(
    client: TestClient, key_id: str, keys: KeyPair, target: str, body: dict
) -> httpx.Response:
    """A signed POST with a JSON body, as `HubClient.post_json` sends it."""
    content = json.dumps(body).encode()
    sha = hashlib.sha256(content).hexdigest()
    auth = signing.authorization_header(key_id, keys, "POST", target, sha)
    headers = {"Authorization": auth, "X-Content-SHA256": sha, "Content-Type": "application/json"}
    return client.post(target, content=content, headers=headers)


def rotate_node_key(session: Session, rt: Runtime) -> tuple[KeyPair, KeyPair]:
    """What `hub node rotate-key` does at this node (neighbours aside): the successor joins the
    node's key set and replaces the key file. Returns (old, new); the old key is not retired."""
    own = key_sets.KeyOwner(key_sets.NODE, rt.settings.node_code)
    old = rt.node_keys
    key_sets.ensure(session, own, old.public_b64)
    new = KeyPair.generate()
    key_sets.add(session, own, new.public_b64)
    path = rt.settings.resolved_node_key_file
    staged = path.with_name(path.name + ".next")
    new.save(staged)
    os.replace(staged, path)
    session.commit()
    assert rt.node_keys.key_id == new.key_id
    return old, new
