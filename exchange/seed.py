"""`hub seed`: synthetic registry data pushed through the same intake path as real batches.

Each provider department gets a local seed connector; every table is written as an Arrow IPC
stream to the payload store and accepted by `intake.accept` — the quality gate, the loader, the
receipts and the routing are the ones a real connector's push goes through (minus HTTP).
"""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Callable
from typing import Any

import pyarrow as pa
from sqlalchemy.orm import Session

from exchange.connector.spool import BATCH_NAMESPACE
from exchange.core import divisions, signing
from exchange.core.db import session_scope
from exchange.core.resource_schema import ResourceSchema
from exchange.core.runtime import Runtime
from exchange.core.signing import KeyPair
from exchange.core.wire import BatchHeaders
from exchange.directory import keys as node_keys
from exchange.directory import repository as directory
from exchange.platforms.exchange.auth import Caller
from exchange.platforms.exchange.connectors import repository as connectors_repo
from exchange.platforms.exchange.intake import service as intake
from exchange.platforms.exchange.models import Connector
from exchange.platforms.open_data.portal.service import refresh_catalog
from exchange.wiring import wire

# References point backwards in this order (legal representatives are people, ...).
LOAD_ORDER = (
    "geo_division",
    "geo_address",
    "population",
    "legal_person",
    "credit_record",
    "material",
    "macro_indicator",
)


def seed_connector(session: Session, rt: Runtime, department_code: str) -> tuple[Caller, KeyPair]:
    dept = directory.get_department(session, rt.settings.node_code, department_code)
    if dept is None:
        raise LookupError(f"department {department_code} missing: run `hub node init` first")
    keys = KeyPair.load_or_create(rt.settings.var_dir / "seed" / f"{department_code}.key")
    connector = connectors_repo.get_connector_by_key(session, keys.public_b64)
    if connector is None:
        connector = Connector(
            department_id=dept.id, name=f"seed:{department_code}", public_key=keys.public_b64
        )
        session.add(connector)
    connector.state = "active"
    session.flush()
    node_keys.ensure(
        session, node_keys.KeyOwner(node_keys.CONNECTOR, str(connector.id)), keys.public_b64
    )
    caller = Caller(
        "connector", str(connector.id), dept.node_code, dept.id, dept.code, keys.public_b64
    )
    return caller, keys


def push_table(
    rt: Runtime, resource: str, table: pa.Table, batch_rows: int = 65_536
) -> dict[str, Any]:
    """Push one table as one batch; returns the batch's status and load counts."""
    wire()  # routed in this process: bench and scripts call this without `hub`
    schema = rt.schemas[resource]
    provider = schema.catalog.provider
    sink = pa.BufferOutputStream()
    with pa.ipc.new_stream(sink, table.schema) as w:
        for rb in table.to_batches(max_chunksize=batch_rows):
            w.write_batch(rb)
    data = sink.getvalue()
    sha = hashlib.sha256(data).hexdigest()
    batch_id = uuid.uuid5(BATCH_NAMESPACE, f"{resource}:None:{sha}")
    with session_scope(rt.sessions) as session:
        caller, keys = seed_connector(session, rt, provider)
        headers = BatchHeaders(
            resource=resource,
            sha256=sha,
            signature=keys.sign(signing.batch_message(str(batch_id), resource, sha, caller.path)),
            origin=None,
            origin_key=None,
            destination=None,
            valid_from=None,
            lineage=[],
        )
        existing = intake.precheck(session, rt, caller, batch_id, headers)
        if existing is not None:
            return {
                "resource": resource,
                "batch_id": str(batch_id),
                "sha256": sha,
                "status": existing.status,
                "rows": existing.rows,
                "replayed": True,
            }
        stored = rt.store.put_stream(intake.payload_key(batch_id, sha), [data.to_pybytes()])
        outcome = intake.accept(session, rt, caller, batch_id, headers, stored)
        b = outcome.batch
        return {
            "resource": resource,
            "batch_id": str(batch_id),
            "sha256": sha,
            "status": b.status,
            "rows": b.rows,
            "load": b.load,
            "gate": b.gate,
        }


def division_table(node_code: str, schema: ResourceSchema) -> pa.Table:
    """GB/T 2260 divisions of the node's province (the shipped list): the geospatial base layer."""
    prefix = node_code[:2]
    rows = [d for d in divisions.table().values() if d.code.startswith(prefix) and d.longitude]
    rows.sort(key=lambda d: d.code)
    return pa.table(
        {
            "code": [d.code for d in rows],
            "name": [d.name for d in rows],
            "level": [d.level for d in rows],
            "parent_code": [d.parent_code for d in rows],
            "longitude": [d.longitude for d in rows],
            "latitude": [d.latitude for d in rows],
        },
        schema=schema.arrow_schema(),
    )


def load_divisions(rt: Runtime) -> dict[str, Any]:
    """Feed the geospatial registry its division layer, so division codes can be checked."""
    table = division_table(rt.settings.node_code, rt.schemas["geo_division"])
    return push_table(rt, "geo_division", table)


def seed(
    rt: Runtime,
    scale: int,
    *,
    seed_value: int = 1,
    on_table: Callable[[str, int], None] | None = None,
) -> list[dict[str, Any]]:
    from basebases.synthetic import demo_city

    tables = demo_city(scale, seed=seed_value, city_code=rt.settings.node_code)
    results = []
    for resource in LOAD_ORDER:
        if resource not in tables:
            continue
        results.append(push_table(rt, resource, tables[resource]))
        if on_table:
            on_table(resource, tables[resource].num_rows)
    with session_scope(rt.sessions) as session:  # freshness and gate results changed
        refresh_catalog(session, rt.schemas)
    return results
