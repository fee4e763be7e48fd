"""Where accepted batches go: subscribed departments (inbox) and neighbouring nodes (relay)."""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from sqlalchemy.orm import Session

from exchange.core import divisions, ports
from exchange.core.db import add_row, utcnow
from exchange.core.errors import BadRequest
from exchange.core.ports import AS_PUBLISHED, Admitted, DeliveryRequest
from exchange.core.runtime import Runtime
from exchange.core.store import StoredObject
from exchange.directory import repository as directory
from exchange.platforms.exchange.auth import Caller, adjacent
from exchange.platforms.exchange.batches import repository as batches_repo
from exchange.platforms.exchange.deliveries import repository as deliveries_repo
from exchange.platforms.exchange.errors import (
    DeliveryNotFound,
    NodeNotFound,
    NotAdjacent,
    UnknownDepartment,
    UnknownResource,
)
from exchange.platforms.exchange.lineage import service as receipts
from exchange.platforms.exchange.models import Batch, Delivery, Subscription
from exchange.platforms.exchange.subscriptions import repository as subscriptions_repo


class NoRoute(NodeNotFound):
    pass


def next_hop(rt: Runtime, destination: str) -> str:
    """The neighbour one level towards `destination`: down the tree if it lies below us."""
    below = divisions.child_towards(rt.settings.node_code, destination)
    if below is not None:
        return below
    if rt.settings.parent is None:
        raise NoRoute(destination)
    return rt.settings.parent.code


def route(session: Session, rt: Runtime, batch: Batch) -> list[Delivery]:
    deliveries: list[Delivery] = []
    if batch.status == "forwarded":
        assert batch.destination is not None
        deliveries.append(_delivery(batch, node_code=next_hop(rt, batch.destination)))
    else:
        seen: set[tuple[str | None, uuid.UUID | None]] = set()
        for sub in subscriptions_repo.subscriptions_for(session, batch.resource_code):
            if sub.node_code and sub.node_code == batch.sender:
                continue  # never bounce a batch back to the node it came from
            if (sub.node_code, sub.department_id) in seen:
                continue  # a duplicate subscription made before subscribing was idempotent
            seen.add((sub.node_code, sub.department_id))
            admitted: Admitted | None = (
                ports.delivery_admission()(session, rt, _request(batch, sub))
                if sub.department_id
                else AS_PUBLISHED
            )
            if admitted is None:
                continue  # made through a sharing grant that no longer holds
            deliveries.append(
                _delivery(
                    batch,
                    node_code=sub.node_code,
                    department_id=sub.department_id,
                    payload=admitted.payload,
                )
            )
    for d in deliveries:
        add_row(session, d)
    if deliveries:
        targets = [d.node_code or str(d.department_id) for d in deliveries]
        receipts.record(session, rt, batch, "queued", {"to": targets})
    return deliveries


def _request(batch: Batch, sub: Subscription) -> DeliveryRequest:
    payload = StoredObject(batch.payload_key, batch.size_bytes, batch.sha256)
    return DeliveryRequest(batch.id, batch.resource_code, batch.rows or 0, payload, sub.id)


def _delivery(
    batch: Batch,
    *,
    node_code: str | None = None,
    department_id: uuid.UUID | None = None,
    payload: StoredObject | None = None,
) -> Delivery:
    if node_code is not None and divisions.get(node_code) is None:
        raise NoRoute(node_code)
    return Delivery(
        batch_id=batch.id,
        resource_code=batch.resource_code,
        node_code=node_code,
        department_id=department_id,
        state="pending",
        next_attempt_at=utcnow(),
        payload_key=payload.key if payload else None,
        payload_sha256=payload.sha256 if payload else None,
        payload_size=payload.size if payload else None,
    )


def inbox(session: Session, caller: Caller, limit: int) -> Sequence[Delivery]:
    assert caller.department_id is not None
    return deliveries_repo.inbox(session, caller.department_id, limit)


def payload_of(session: Session, d: Delivery) -> StoredObject:
    """What a delivery sends: its own payload when it has one, else its batch's."""
    if d.payload_key is not None:
        assert d.payload_sha256 is not None and d.payload_size is not None
        return StoredObject(d.payload_key, d.payload_size, d.payload_sha256)
    b = batches_repo.get_batch(session, d.batch_id)
    assert b is not None
    return StoredObject(b.payload_key, b.size_bytes, b.sha256)


def delivery_for(session: Session, caller: Caller, delivery_id: int) -> Delivery:
    d = deliveries_repo.get_delivery(session, delivery_id)
    if d is None or d.department_id is None or d.department_id != caller.department_id:
        raise DeliveryNotFound(delivery_id)  # another department's delivery does not exist
    return d


def release(session: Session, rt: Runtime, d: Delivery) -> None:
    """Before a delivery is downloaded: the sharing grant it goes under must have room for its
    rows today (`ports.delivery_release`, 429 naming the quota otherwise)."""
    if d.department_id is None:
        return
    batch = batches_repo.get_batch(session, d.batch_id)
    assert batch is not None
    ports.delivery_release()(session, rt, d.department_id, d.resource_code, batch.rows or 0)


def acknowledge(session: Session, rt: Runtime, caller: Caller, delivery_id: int) -> Delivery:
    """The connector has written the delivery: mark it done (idempotent) and sign a receipt."""
    d = delivery_for(session, caller, delivery_id)
    if d.state != "delivered":
        d.state = "delivered"
        d.delivered_at = utcnow()
        batch = batches_repo.get_batch(session, d.batch_id)
        assert batch is not None
        receipts.record(session, rt, batch, "delivered", {"to": caller.path, "delivery": d.id})
    return d


def subscribe(
    session: Session,
    rt: Runtime,
    resource: str,
    *,
    department: str | None = None,
    node_code: str | None = None,
) -> Subscription:
    """Send `resource`'s accepted batches to a department here or a neighbouring node, once:
    subscribing again to the same destination returns the first subscription."""
    if directory.get_resource(session, resource) is None:
        raise UnknownResource(resource)
    dept_id = None
    if department is not None:
        dept = directory.get_department(session, rt.settings.node_code, department)
        if dept is None:
            raise UnknownDepartment(department, rt.settings.node_code)
        dept_id = dept.id
    if node_code is not None and not adjacent(node_code, rt.settings.node_code):
        raise NotAdjacent(node_code, rt.settings.node_code)
    if (dept_id is None) == (node_code is None):
        raise BadRequest("a subscription names either a department or a node")
    existing = subscriptions_repo.find_subscription(session, resource, dept_id, node_code)
    if existing is not None:  # idempotent: a restarted `hub cluster up` subscribes again
        existing.active = True
        return existing
    sub = Subscription(resource_code=resource, department_id=dept_id, node_code=node_code)
    add_row(session, sub)
    return sub
