"""Catalogued resources, their versions, the log of every step, and the node's counters."""

from __future__ import annotations

import datetime as dt
import uuid
from enum import StrEnum
from typing import Any

from sqlalchemy import BigInteger, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from exchange.core.db import Base, BigIntPK, JSONDoc, new_id, utcnow


class Status(StrEnum):
    draft = "draft"  # 编目中: the provider edits it
    submitted = "submitted"  # 待审核
    returned = "returned"  # 退回: the provider edits it again, with the reviewer's reasons
    approved = "approved"  # 审核通过, not yet live
    published = "published"  # 已发布: accepts batches, shown in the sharing catalogue
    withdrawn = "withdrawn"  # 停用: intake refuses, readers get 410, data kept


class CatalogueResource(Base):
    """One catalogued resource. `draft` holds the descriptor being edited (for a published
    resource: its next version, until that is published)."""

    __tablename__ = "catalogue_resource"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    code: Mapped[str] = mapped_column(String(64), unique=True)  # table ds_<code>
    identifier: Mapped[str] = mapped_column(String(64), unique=True)  # 330100/ZRZY/000123
    provider_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("department.id"), index=True)
    status: Mapped[str] = mapped_column(String(16), index=True)
    builtin: Mapped[bool] = mapped_column(default=False)
    draft: Mapped[dict[str, Any] | None] = mapped_column(JSONDoc)
    current_version: Mapped[int | None] = mapped_column(Integer)
    created_by: Mapped[str] = mapped_column(String(128))
    submitted_by: Mapped[str | None] = mapped_column(String(128))
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class CatalogueVersion(Base):
    """A published version's whole descriptor (catalogue fields, data items, key), kept for
    good. Batches written against the previous version are accepted until `previous_until`."""

    __tablename__ = "catalogue_version"
    __table_args__ = (UniqueConstraint("resource_id", "number"),)

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True, autoincrement=True)
    resource_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("catalogue_resource.id"))
    number: Mapped[int] = mapped_column(Integer)
    descriptor: Mapped[dict[str, Any]] = mapped_column(JSONDoc)
    published_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    published_by: Mapped[str] = mapped_column(String(128))
    previous_until: Mapped[dt.datetime | None]


class CatalogueEvent(Base):
    """Every step of a resource's life: who, when, what, why (append-only)."""

    __tablename__ = "catalogue_event"

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True, autoincrement=True)
    resource_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("catalogue_resource.id", ondelete="CASCADE"), index=True
    )
    at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    actor: Mapped[str] = mapped_column(String(128))
    action: Mapped[str] = mapped_column(String(32))
    reason: Mapped[str | None] = mapped_column(Text)
    version: Mapped[int | None] = mapped_column(Integer)
    detail: Mapped[dict[str, Any]] = mapped_column(JSONDoc, default=dict)


class CatalogueCounter(Base):
    """The last sequence number issued per provider: a deleted draft's number is never reused."""

    __tablename__ = "catalogue_counter"

    provider_code: Mapped[str] = mapped_column(String(32), primary_key=True)
    last: Mapped[int] = mapped_column(BigInteger, default=0)


class CatalogueGeneration(Base):
    """One row, bumped whenever the set of published schemas changes: every worker compares it
    with the one it holds and reloads when it moved."""

    __tablename__ = "catalogue_generation"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    generation: Mapped[int] = mapped_column(BigInteger, default=0)
