from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from sqlalchemy import BigInteger, ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from exchange.core.db import Base, BigIntPK, JSONDoc, new_id, utcnow


class Node(Base):
    """A hub node: province, city or district, named by its 12-digit division code."""

    __tablename__ = "node"

    code: Mapped[str] = mapped_column(String(12), primary_key=True)
    level: Mapped[str] = mapped_column(String(16))
    name: Mapped[str] = mapped_column(String(64))
    url: Mapped[str | None] = mapped_column(String(255))
    parent_code: Mapped[str | None] = mapped_column(String(12))
    public_key: Mapped[str | None] = mapped_column(String(64))
    is_self: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class PrincipalKey(Base):
    """One Ed25519 public key of a node or a connector; a principal holds several while rotating.

    A key verifies new requests from `activated_at` until `retired_at` (which may be set in the
    future: a retirement scheduled after an overlap). A retired key is kept for good: batches,
    receipts, tokens and audit seals it signed must still verify as history.
    """

    __tablename__ = "principal_key"
    __table_args__ = (UniqueConstraint("kind", "principal", "key_id"),)  # also finds all keys

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True, autoincrement=True)
    kind: Mapped[str] = mapped_column(String(16))  # node | connector
    principal: Mapped[str] = mapped_column(String(36))  # node code or connector id
    key_id: Mapped[str] = mapped_column(String(16))  # signing.fingerprint(public_key)
    public_key: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    activated_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    retired_at: Mapped[dt.datetime | None]

    def valid_at(self, at: dt.datetime) -> bool:
        return self.activated_at <= at and (self.retired_at is None or at < self.retired_at)


class Department(Base):
    """A government department on a node, e.g. 杭州市公安局 (node 330100000000, code GA)."""

    __tablename__ = "department"
    __table_args__ = (UniqueConstraint("node_code", "code"),)

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    node_code: Mapped[str] = mapped_column(ForeignKey("node.code"))
    code: Mapped[str] = mapped_column(String(32))
    name: Mapped[str] = mapped_column(String(128))
    parent_org: Mapped[str | None] = mapped_column(String(128))  # e.g. 杭州市人民政府
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)

    node: Mapped[Node] = relationship(lazy="raise")

    @property
    def path(self) -> str:
        """X-Road style identifier: REGION-CODE/DEPARTMENT."""
        return f"{self.node_code}/{self.code}"


class Resource(Base):
    """A catalogued dataset; its columns come from `schemas/<code>.json`."""

    __tablename__ = "resource"

    code: Mapped[str] = mapped_column(String(64), primary_key=True)
    title: Mapped[str] = mapped_column(String(200))
    abstract: Mapped[str] = mapped_column(Text)
    classification: Mapped[str] = mapped_column(String(128))
    provider_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("department.id"), index=True)
    share_class: Mapped[str] = mapped_column(String(16), index=True)
    share_conditions: Mapped[str | None] = mapped_column(Text)
    open_class: Mapped[str] = mapped_column(String(16), index=True)
    update_cycle: Mapped[str] = mapped_column(String(16))
    topic: Mapped[str | None] = mapped_column(String(64))
    tags: Mapped[list[str]] = mapped_column(JSONDoc, default=list)
    licence: Mapped[str | None] = mapped_column(String(64))
    identifier: Mapped[str | None] = mapped_column(String(64))
    data_items: Mapped[list[dict[str, Any]]] = mapped_column(JSONDoc, default=list)
    schema_sha256: Mapped[str] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(16), default="published")
    published_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    last_updated_at: Mapped[dt.datetime | None]
    row_count: Mapped[int] = mapped_column(BigInteger, default=0)
    quality_score: Mapped[float | None]

    provider: Mapped[Department] = relationship(lazy="raise")
