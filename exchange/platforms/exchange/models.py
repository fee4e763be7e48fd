"""Exchange platform tables: connectors, batches with their receipts, subscriptions, deliveries."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from sqlalchemy import BigInteger, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from exchange.core.db import Base, BigIntPK, JSONDoc, new_id, utcnow
from exchange.directory.models import Department


class Connector(Base):
    """A department's front-end processor (前置机), known by its Ed25519 public key."""

    __tablename__ = "connector"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    department_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("department.id"), index=True)
    name: Mapped[str] = mapped_column(String(128))
    public_key: Mapped[str] = mapped_column(String(64))
    state: Mapped[str] = mapped_column(String(16), default="registered")
    queue_cap: Mapped[int] = mapped_column(default=100)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    approved_at: Mapped[dt.datetime | None]
    last_seen_at: Mapped[dt.datetime | None]
    last_push_at: Mapped[dt.datetime | None]

    department: Mapped[Department] = relationship(lazy="raise")


class Batch(Base):
    """A batch as this node saw it. The id is the origin's, so re-sends are recognised."""

    __tablename__ = "batch"
    __table_args__ = (Index("ix_batch_resource_received", "resource_code", "received_at"),)

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    resource_code: Mapped[str] = mapped_column(ForeignKey("resource.code"))
    origin: Mapped[str] = mapped_column(String(128))  # NODE/DEPT/connector-id of the pusher
    origin_public_key: Mapped[str] = mapped_column(String(64))
    sender: Mapped[str] = mapped_column(String(64))  # who handed it to this node (hop)
    destination: Mapped[str | None] = mapped_column(String(12))
    sha256: Mapped[str] = mapped_column(String(64))
    signature: Mapped[str] = mapped_column(String(100))
    size_bytes: Mapped[int] = mapped_column(BigInteger)
    rows: Mapped[int | None] = mapped_column(BigInteger)
    status: Mapped[str] = mapped_column(String(16), index=True)  # accepted|quarantined|forwarded
    payload_key: Mapped[str] = mapped_column(String(200))
    gate: Mapped[dict[str, Any] | None] = mapped_column(JSONDoc)
    load: Mapped[dict[str, Any] | None] = mapped_column(JSONDoc)
    upstream: Mapped[list[dict[str, Any]]] = mapped_column(JSONDoc, default=list)
    valid_from: Mapped[dt.datetime | None]
    # The number the sender's file gives the first row: findings are numbered from it.
    first_row: Mapped[int] = mapped_column(default=1, server_default="1")
    received_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    completed_at: Mapped[dt.datetime | None]


class Receipt(Base):
    """One signed step of a batch's journey at this node (received, gated, loaded, sent...)."""

    __tablename__ = "receipt"

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True, autoincrement=True)
    batch_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("batch.id"), index=True)
    node_code: Mapped[str] = mapped_column(String(12))
    action: Mapped[str] = mapped_column(String(16))
    at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    sha256: Mapped[str] = mapped_column(String(64))
    signature: Mapped[str] = mapped_column(String(100))
    # The node key that signed (its fingerprint); empty on receipts from before key rotation,
    # which were all signed with the node's first key.
    key_id: Mapped[str | None] = mapped_column(String(16))
    detail: Mapped[dict[str, Any]] = mapped_column(JSONDoc, default=dict)
    # The signed message's layout: hub-receipt/v2 covers the detail, v1 (older rows) does not.
    layout: Mapped[str] = mapped_column(
        String(16), default="hub-receipt/v1", server_default="hub-receipt/v1"
    )


class Subscription(Base):
    """Where a resource's accepted batches go: a department here, or a neighbouring node."""

    __tablename__ = "subscription"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    resource_code: Mapped[str] = mapped_column(ForeignKey("resource.code"), index=True)
    department_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("department.id"))
    node_code: Mapped[str | None] = mapped_column(ForeignKey("node.code"))
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class Delivery(Base):
    """The durable outbox: one row per batch per destination, delivered at least once."""

    __tablename__ = "delivery"
    __table_args__ = (
        Index("ix_delivery_pending", "state", "next_attempt_at"),
        Index("ix_delivery_batch_target", "batch_id", "department_id", "node_code", unique=True),
    )

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True, autoincrement=True)
    batch_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("batch.id"))
    resource_code: Mapped[str] = mapped_column(String(64))
    department_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("department.id"))
    node_code: Mapped[str | None] = mapped_column(ForeignKey("node.code"))
    state: Mapped[str] = mapped_column(String(16), default="pending")  # pending|delivered
    attempts: Mapped[int] = mapped_column(default=0)
    next_attempt_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    delivered_at: Mapped[dt.datetime | None]
    remote_receipt: Mapped[dict[str, Any] | None] = mapped_column(JSONDoc)
    # Set when the delivery carries its own payload (bulk exchange cut to a grant's fields and
    # masking); otherwise the batch's payload goes out as published.
    payload_key: Mapped[str | None] = mapped_column(String(200))
    payload_sha256: Mapped[str | None] = mapped_column(String(64))
    payload_size: Mapped[int | None] = mapped_column(BigInteger)
