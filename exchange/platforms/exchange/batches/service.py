"""Batches as this node holds them: the status view, the list, and rechecking a quarantine."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import httpx
import pyarrow as pa
from sqlalchemy.orm import Session

from exchange.core import signing, wire
from exchange.core.db import utcnow
from exchange.core.errors import Unprocessable
from exchange.core.runtime import Runtime
from exchange.platforms.exchange.auth import Caller
from exchange.platforms.exchange.batches import repository as batches_repo
from exchange.platforms.exchange.batches.schemas import BatchRead
from exchange.platforms.exchange.deliveries import repository as deliveries_repo
from exchange.platforms.exchange.deliveries.schemas import DeliveryRead
from exchange.platforms.exchange.errors import (
    BatchNotFound,
    BatchNotQuarantined,
    PayloadGone,
    UnknownResource,
)
from exchange.platforms.exchange.intake import service as intake
from exchange.platforms.exchange.lineage import service as receipts
from exchange.platforms.exchange.lineage.schemas import ReceiptRead
from exchange.platforms.exchange.models import Batch
from exchange.platforms.exchange.nodes import repository as nodes_repo
from exchange.platforms.exchange.relay import routing

BATCH_STATUSES = ("accepted", "quarantined", "forwarded", "receiving")


def batch_of(session: Session, batch_id: uuid.UUID) -> Batch:
    b = batches_repo.get_batch(session, batch_id)
    if b is None:
        raise BatchNotFound(batch_id)
    return b


def batch_view(
    session: Session, rt: Runtime, batch_id: uuid.UUID, viewer: Caller | None = None
) -> BatchRead:
    """The batch as `viewer` may see it: the department that sent it sees the values of its
    own rows in plain in the gate's findings; everyone else (operators, other nodes) masked."""
    b = batch_of(session, batch_id)
    lineage = [ReceiptRead(**r) for r in receipts.lineage(session, rt, b)]
    gate = b.gate
    if gate and viewer is not None and is_sender(viewer, b):
        gate = {**gate, "findings": plain_findings(rt, b, gate.get("findings") or [])}
    return BatchRead(
        batch_id=b.id,
        resource=b.resource_code,
        status=b.status,
        node=rt.settings.node_code,
        origin=b.origin,
        origin_public_key=b.origin_public_key,
        origin_key_id=signing_key_id(b.origin_public_key),
        signature=b.signature,
        sha256=b.sha256,
        size_bytes=b.size_bytes,
        rows=b.rows,
        first_row=b.first_row,
        destination=b.destination,
        received_at=b.received_at,
        completed_at=b.completed_at,
        gate=gate,
        load=b.load,
        lineage=lineage,
        deliveries=[
            DeliveryRead.model_validate(d) for d in deliveries_repo.deliveries_of(session, b.id)
        ],
    )


def signing_key_id(public_key: str) -> str | None:
    try:
        return signing.fingerprint(public_key)
    except ValueError:
        return None


def is_sender(viewer: Caller, batch: Batch) -> bool:
    """A connector of the department that pushed the batch, at the node it pushed it to."""
    if viewer.kind != "connector":
        return False
    node, _, rest = batch.origin.partition("/")
    department = rest.partition("/")[0]
    return (node, department) == (viewer.node_code, viewer.department_code)


def plain_findings(
    rt: Runtime, batch: Batch, findings: list[dict[str, Any]]
) -> list[dict[str, Any]]:
    """The findings with the row's key and the finding's value read from the stored payload,
    in plain: what the sender itself sent, so it can find and fix the row."""
    wanted = {
        f["row"] - batch.first_row
        for f in findings
        if isinstance(f.get("row"), int) and f["row"] >= batch.first_row
    }
    rows = _payload_rows(rt, batch.payload_key, wanted) if wanted else {}
    schema = rt.schemas.get(batch.resource_code)
    key_fields = list(schema.primary_key) if schema else []
    shown = []
    for f in findings:
        values = rows.get(f["row"] - batch.first_row) if isinstance(f.get("row"), int) else None
        if values is not None:
            f = dict(f)
            if key_fields and all(k in values for k in key_fields):
                f["key"] = "|".join("" if values[k] is None else str(values[k]) for k in key_fields)
            if f.get("value") is not None and f.get("field") in values:
                f["value"] = str(values[f["field"]])
        shown.append(f)
    return shown


def _payload_rows(rt: Runtime, key: str, wanted: set[int]) -> dict[int, dict[str, Any]]:
    """The wanted rows (positions from 0) of a stored payload, streaming it: it may be larger
    than memory, and the findings name at most a few rows."""
    found: dict[int, dict[str, Any]] = {}
    if not rt.store.exists(key):
        return found
    offset, last = 0, max(wanted)
    with rt.store.open(key) as fh:
        try:
            for rb in pa.ipc.open_stream(fh):
                for row in sorted(r for r in wanted if offset <= r < offset + rb.num_rows):
                    found[row] = rb.slice(row - offset, 1).to_pylist()[0]
                offset += rb.num_rows
                if offset > last:
                    break
        except (pa.ArrowInvalid, OSError):
            return found  # a corrupt payload never got this far; show the masked findings
    return found


def recheck(session: Session, rt: Runtime, batch_id: uuid.UUID, by: str) -> Batch:
    """Run the gate again on a quarantined batch's stored payload (after the catalogue or a
    referenced registry was fixed): accepted and routed if it passes now, else kept in
    quarantine with the problems found this time. A signed `rechecked` receipt names who asked
    and what the gate said before."""
    b = batch_of(session, batch_id)
    if b.status != "quarantined":
        raise BatchNotQuarantined(batch_id, b.status)
    if not rt.store.exists(b.payload_key):
        raise PayloadGone(batch_id)
    schema = rt.schemas.get(b.resource_code)
    if schema is None:
        raise UnknownResource(b.resource_code)
    before = (b.gate or {}).get("failures_by_rule", {})
    receipts.record(session, rt, b, "rechecked", {"by": by, "failed_rules_before": before})
    node, _, rest = b.origin.partition("/")
    now = utcnow()
    intake.gate_and_load_batch(
        session,
        rt,
        b,
        schema,
        from_department=node == rt.settings.node_code and bool(rest),
        recorded_at=now,
    )
    b.completed_at = now
    if b.status == "accepted":
        routing.route(session, rt, b)
    session.flush()
    return b


def batches(
    session: Session, *, status: str | None = None, resource: str | None = None, limit: int = 100
) -> Sequence[Batch]:
    """The newest batches received here, by status and resource."""
    if status is not None and status not in BATCH_STATUSES:
        raise Unprocessable(f"status {status!r}: one of {', '.join(BATCH_STATUSES)}")
    return batches_repo.list_batches(session, status=status, resource=resource, limit=limit)


TRAIL_TIMEOUT_S = 10.0


@dataclass(frozen=True)
class Trail:
    """This node's view of a batch, and the neighbours to ask for theirs (code, URL)."""

    batch_id: uuid.UUID
    views: list[dict[str, Any]]
    neighbours: list[tuple[str, str | None]]


def trail_here(
    session: Session, rt: Runtime, batch_id: uuid.UUID, *, asked_by: str | None = None
) -> Trail:
    """The first half of `ask_trail`, read in the caller's transaction: this node's view and
    the nodes that handed the batch here or were handed it from here (never the one asking)."""
    b = batch_of(session, batch_id)
    me = rt.settings.node_code
    view = batch_view(session, rt, batch_id).model_dump(mode="json")
    hops = [b.sender] if b.sender.isdigit() and len(b.sender) == 12 else []
    hops += [d.node_code for d in deliveries_repo.deliveries_of(session, b.id) if d.node_code]
    neighbours = []
    for code in dict.fromkeys(hops):
        if code not in (me, asked_by):
            node = nodes_repo.get_node(session, code)
            neighbours.append((code, node.url if node is not None else None))
    return Trail(batch_id, [{"node": me, "batch": view}], neighbours)


def ask_trail(rt: Runtime, here: Trail) -> list[dict[str, Any]]:
    """The batch as every node on its way saw it: this node's view, then each neighbour's,
    asked over signed calls. Each neighbour follows the trail on (never back to the one asking),
    so the whole route is reached one level at a time, as data moves. Call it with no
    transaction open: it waits on other nodes. A node that cannot be asked, or does not hold
    the batch, is listed with the reason."""
    views = list(here.views)
    me = rt.settings.node_code
    path = f"{wire.batch_path(here.batch_id)}/trail"
    pair = rt.node_keys
    with httpx.Client(timeout=TRAIL_TIMEOUT_S) as http:
        for code, url in here.neighbours:
            if not url:
                views.append({"node": code, "error": "no URL known for this node"})
                continue
            auth = signing.authorization_header(
                signing.qualified_key_id(me, pair), pair, "GET", path
            )
            try:
                resp = http.get(url.rstrip("/") + path, headers={"Authorization": auth})
            except httpx.HTTPError as exc:
                views.append({"node": code, "error": f"unreachable: {type(exc).__name__}"})
                continue
            try:
                body = resp.json()
            except ValueError:
                body = {"detail": resp.text[:200]}
            if resp.status_code != 200 or not isinstance(body, list):
                detail = body.get("detail", "") if isinstance(body, dict) else ""
                views.append({"node": code, "error": f"{resp.status_code}: {detail}"})
                continue
            views.extend(body)
    return views
