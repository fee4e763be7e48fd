"""Batch intake at a node: verify, gate, load or quarantine, route. One transaction per batch.

The body is already in the payload store (streamed by the router) when `accept` runs; the
database transaction either records the batch with its loaded rows and deliveries, or nothing.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

import pyarrow as pa
from sqlalchemy.orm import Session

from exchange.catalogue import repository as catalogue
from exchange.catalogue import versions
from exchange.catalogue.errors import NotPublished
from exchange.core import codelists, conformance, divisions, signing, wire
from exchange.core.db import add_row, utcnow
from exchange.core.metrics import BATCH_BYTES, BATCH_ROWS, BATCHES_RECEIVED
from exchange.core.resource_schema import ResourceSchema
from exchange.core.row_ops import OP_COLUMN
from exchange.core.runtime import Runtime
from exchange.core.store import StoredObject
from exchange.core.wire import BatchHeaders
from exchange.datastore.ingest import gate_and_load
from exchange.directory import repository as directory
from exchange.platforms.exchange.auth import Caller
from exchange.platforms.exchange.batches import repository as batches_repo
from exchange.platforms.exchange.connectors import repository as connectors_repo
from exchange.platforms.exchange.deliveries import repository as deliveries_repo
from exchange.platforms.exchange.errors import (
    BadBatchHeader,
    BatchIdReused,
    BatchSignatureInvalid,
    HashMismatch,
    NotArrow,
    NotProvider,
    OutsideJurisdiction,
    QueueFull,
    SchemaMismatch,
    UnknownResource,
)
from exchange.platforms.exchange.lineage import service as receipts
from exchange.platforms.exchange.models import Batch
from exchange.platforms.exchange.relay import routing


def parse_headers(h: Mapping[str, str]) -> BatchHeaders:
    try:
        return wire.parse_headers(h, utcnow())
    except wire.HeaderProblem as exc:
        raise BadBatchHeader(exc.header, exc.problem) from None


def payload_key(batch_id: uuid.UUID, sha256: str) -> str:
    # Content-addressed under the batch id: concurrent re-sends of the same batch write the
    # same bytes, and a different body for the same id never overwrites the first.
    return f"batches/{str(batch_id)[:2]}/{batch_id}/{sha256}.arrow"


def precheck(
    session: Session, rt: Runtime, caller: Caller, batch_id: uuid.UUID, h: BatchHeaders
) -> Batch | None:
    """Before the body is read: a replay returns the first batch; refusals happen here."""
    existing = batches_repo.get_batch(session, batch_id)
    if existing is not None:
        if existing.sha256 != h.sha256:
            raise BatchIdReused(batch_id)
        return existing
    resource = directory.get_resource(session, h.resource)
    if resource is None or h.resource not in rt.schemas:
        catalogued = catalogue.get(session, h.resource)
        if catalogued is not None:  # a draft, under review, approved: not live yet
            raise NotPublished(h.resource, catalogued.status)
        raise UnknownResource(h.resource)
    if resource.status == "withdrawn":
        raise NotPublished(h.resource, resource.status)
    versions.accepts_previous(session, h.resource, h.schema_version, utcnow())
    if caller.kind == "connector":
        if resource.provider_id != caller.department_id:
            raise NotProvider(caller.department_code or "?", h.resource)
        connector = connectors_repo.get_connector(session, uuid.UUID(caller.key_id))
        assert connector is not None and caller.department_id is not None
        if (
            deliveries_repo.pending_for_department(session, caller.department_id)
            >= connector.queue_cap
        ):
            raise QueueFull(caller.key_id, connector.queue_cap)
    return None


@dataclass(frozen=True)
class Outcome:
    batch: Batch
    replayed: bool


def accept(
    session: Session,
    rt: Runtime,
    caller: Caller,
    batch_id: uuid.UUID,
    h: BatchHeaders,
    stored: StoredObject,
) -> Outcome:
    if stored.sha256 != h.sha256:
        rt.store.delete(stored.key)
        raise HashMismatch(h.sha256, stored.sha256)
    origin, origin_key = _origin(caller, h)
    if not signing.verify(
        origin_key, signing.batch_message(str(batch_id), h.resource, h.sha256, origin), h.signature
    ):
        rt.store.delete(stored.key)
        raise BatchSignatureInvalid(origin)
    schema = rt.schemas[h.resource]
    me = rt.settings.node_code
    batch = Batch(
        id=batch_id,
        resource_code=h.resource,
        origin=origin,
        origin_public_key=origin_key,
        sender=caller.key_id,
        destination=h.destination,
        sha256=h.sha256,
        signature=h.signature,
        size_bytes=stored.size,
        payload_key=stored.key,
        upstream=h.lineage,
        valid_from=h.valid_from,
        first_row=h.first_row,
        status="receiving",
    )
    add_row(session, batch)
    receipts.record(session, rt, batch, "received", {"from": caller.path, "bytes": stored.size})
    try:
        if h.destination and h.destination != me:
            _check_stream(rt, schema, stored.key)
            batch.status = "forwarded"
            receipts.record(session, rt, batch, "forwarded", {"to": h.destination})
        else:
            previous = versions.accepts_previous(session, h.resource, h.schema_version, utcnow())
            gate_and_load_batch(
                session,
                rt,
                batch,
                schema,
                from_department=caller.kind == "connector",
                previous_version=previous,
            )
    except (NotArrow, SchemaMismatch, OutsideJurisdiction):
        rt.store.delete(stored.key)
        raise
    batch.completed_at = utcnow()
    if batch.status in ("accepted", "forwarded"):
        routing.route(session, rt, batch)
    if caller.kind == "connector":
        connectors_repo.mark_pushed(session, uuid.UUID(caller.key_id), batch.completed_at)
    session.flush()
    BATCHES_RECEIVED.labels(batch.resource_code, batch.status).inc()
    BATCH_ROWS.labels(batch.resource_code, batch.status).inc(batch.rows or 0)
    BATCH_BYTES.labels(batch.resource_code, batch.status).inc(batch.size_bytes)
    return Outcome(batch, replayed=False)


def _origin(caller: Caller, h: BatchHeaders) -> tuple[str, str]:
    if caller.kind == "connector":
        return caller.path, caller.public_key
    if not h.origin or not h.origin_key:
        raise BadBatchHeader(wire.ORIGIN, "a relayed batch must name its origin and key")
    if not signing.valid_public_key(h.origin_key):
        raise BadBatchHeader(wire.ORIGIN_KEY, "not an Ed25519 public key")
    return h.origin, h.origin_key


def read_stream(
    rt: Runtime, schema: ResourceSchema, key: str, *, previous_version: bool = False
) -> Iterator[pa.RecordBatch]:
    """Record batches of a stored payload, checked against the resource's columns, with values
    of a code list sent as labels (汉族) turned into their codes (01): the code is stored.

    `previous_version`: the batch was written against the version before the one in force
    (within its grace period): the optional columns it lacks are added empty and the columns
    since widened are cast, so that it loads as the version in force."""
    with rt.store.open(key) as fh:
        try:
            reader = pa.ipc.open_stream(fh)
        except (pa.ArrowInvalid, OSError) as exc:
            raise NotArrow(str(exc)) from None
        conform = _conformer(schema, reader.schema) if previous_version else None
        _check_schema(schema, conform.target if conform else reader.schema)
        coded = [(f.name, f.code_list) for f in schema.fields if f.code_list]
        while True:
            try:
                rb = reader.read_next_batch()
                yield codelists.to_codes(conform(rb) if conform else rb, coded)
            except StopIteration:
                return
            except (pa.ArrowInvalid, OSError) as exc:
                raise NotArrow(f"truncated or corrupt ({exc})") from None


def _check_stream(rt: Runtime, schema: ResourceSchema, key: str) -> int:
    return sum(rb.num_rows for rb in read_stream(rt, schema, key))


# Widenings a new version may make (validation.WIDENINGS), as Arrow casts that lose nothing.
_SAFE_CASTS = {(pa.int32(), pa.int64()), (pa.int64(), pa.float64()), (pa.int32(), pa.float64())}


@dataclass(frozen=True)
class _Conformer:
    target: pa.Schema
    steps: list[tuple[str, pa.DataType, bool]]  # name, type, present in the batch

    def __call__(self, rb: pa.RecordBatch) -> pa.RecordBatch:
        arrays = [
            rb.column(name).cast(type_) if present else pa.nulls(rb.num_rows, type_)
            for name, type_, present in self.steps
        ]
        return pa.RecordBatch.from_arrays(arrays, schema=self.target)


def _conformer(schema: ResourceSchema, got: pa.Schema) -> _Conformer | None:
    """How a previous version's batch becomes the version in force; None when it needs
    nothing, or cannot (the strict check then names what is wrong)."""
    expected = schema.arrow_schema()
    steps: list[tuple[str, pa.DataType, bool]] = []
    fields: list[pa.Field] = []
    changed = False
    for f in expected:
        if f.name in got.names:
            have = got.field(f.name).type
            if not have.equals(f.type) and (have, f.type) not in _SAFE_CASTS:
                return None
            changed |= not have.equals(f.type)
            steps.append((f.name, f.type, True))
        elif f.nullable:
            changed = True
            steps.append((f.name, f.type, False))
        else:
            return None
        fields.append(f)
    if OP_COLUMN in got.names:
        steps.append((OP_COLUMN, got.field(OP_COLUMN).type, True))
        fields.append(got.field(OP_COLUMN))
    if not changed or any(n not in expected.names and n != OP_COLUMN for n in got.names):
        return None
    return _Conformer(pa.schema(fields, metadata=expected.metadata), steps)


def _check_schema(schema: ResourceSchema, got: pa.Schema) -> None:
    expected = schema.arrow_schema()
    problems: list[dict[str, Any]] = []
    for f in expected:
        if f.name not in got.names:
            message = conformance.missing_column(f.name, required=schema.field(f.name).required)
            problems.append({"field": f.name, "rule": conformance.MISSING, "message": message})
        elif not got.field(f.name).type.equals(f.type):
            problems.append(
                {
                    "field": f.name,
                    "rule": conformance.TYPE,
                    "message": conformance.wrong_type(f.name, got.field(f.name).type, f.type),
                }
            )
    for name in got.names:
        if name not in expected.names and name != OP_COLUMN:
            message = conformance.unknown_column(name, schema.code, schema.field_names)
            problems.append({"field": name, "rule": conformance.UNKNOWN, "message": message})
    if OP_COLUMN in got.names and not pa.types.is_string(got.field(OP_COLUMN).type):
        message = conformance.wrong_type(OP_COLUMN, got.field(OP_COLUMN).type, pa.string())
        problems.append({"field": OP_COLUMN, "rule": conformance.TYPE, "message": message})
    if problems:
        raise SchemaMismatch(schema.code, problems)


def _in_area(
    batches: Iterator[pa.RecordBatch], schema: ResourceSchema, area: str, first_row: int
) -> Iterator[pa.RecordBatch]:
    """The batches, refused at the first known division outside `area` (unknown codes are the
    gate's to report)."""
    field = schema.jurisdiction_field
    offset = first_row
    for rb in batches:
        if field is not None and field in rb.schema.names:
            for i, code in enumerate(rb.column(field).to_pylist()):
                if code and divisions.get(code) and not divisions.within(code, area):
                    raise OutsideJurisdiction(schema.code, field, offset + i, code, area)
        offset += rb.num_rows
        yield rb


def gate_and_load_batch(
    session: Session,
    rt: Runtime,
    batch: Batch,
    schema: ResourceSchema,
    *,
    from_department: bool,
    recorded_at: dt.datetime | None = None,
    previous_version: bool = False,
) -> None:
    """Gate the batch's stored payload and load it, or quarantine it; a signed receipt either
    way. `recorded_at`: the rows' system time (default: when the batch was received);
    `previous_version`: the rows were written against the version before the one in force."""
    stream = read_stream(rt, schema, batch.payload_key, previous_version=previous_version)
    if from_department:
        stream = _in_area(stream, schema, rt.settings.node_code, batch.first_row)
    outcome = gate_and_load(
        session,
        schema,
        stream,
        batch_id=batch.id,
        recorded_at=recorded_at or batch.received_at,
        valid_from=batch.valid_from,
        first_row=batch.first_row,
    )
    # Set after the savepoint ended: a rolled-back savepoint expires what changed inside it.
    batch.gate = outcome.gate
    batch.rows = outcome.gate["rows"]
    if not outcome.accepted:
        batch.status = "quarantined"
        receipts.record(session, rt, batch, "quarantined", {"failed_rules": outcome.failed_rules})
        return
    assert outcome.result is not None
    batch.status = "accepted"
    batch.load = outcome.load_summary()
    delta = outcome.result.inserted - outcome.result.deleted
    batches_repo.bump_resource(session, schema.code, recorded_at or batch.received_at, delta)
    receipts.record(session, rt, batch, "accepted", {"rows": outcome.result.rows, **batch.load})
