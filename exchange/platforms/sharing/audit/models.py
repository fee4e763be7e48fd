"""The audit chain's anchors outside this node's database (X-Road time-stamps its message log).

A node sends each new seal head to its parent, which verifies the child's signature,
countersigns the head and keeps it (`ChildSealHead`); the child keeps the countersignature
(`AuditAnchor`). An insider who rewrites or shortens the child's chain cannot reach the
parent's copy, so `hub audit verify --against-parent` shows what was done, by seal number.
Both tables are append-only like the log itself.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import BigInteger, String
from sqlalchemy.orm import Mapped, mapped_column

from exchange.core.db import Base


class AuditAnchor(Base):
    """The parent's countersignature of one of this node's seal heads (kept by the child)."""

    __tablename__ = "audit_anchor"

    seal_no: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    seal_hash: Mapped[str] = mapped_column(String(64))
    anchor: Mapped[str] = mapped_column(String(12))  # the countersigning node's code
    anchor_key_id: Mapped[str] = mapped_column(String(16))
    countersignature: Mapped[str] = mapped_column(String(100))
    anchored_at: Mapped[dt.datetime]  # the parent's clock, covered by the countersignature


class ChildSealHead(Base):
    """A child node's seal head as the child signed it and this node countersigned it."""

    __tablename__ = "audit_child_head"

    child: Mapped[str] = mapped_column(String(12), primary_key=True)
    seal_no: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    seal_hash: Mapped[str] = mapped_column(String(64))
    prev_hash: Mapped[str] = mapped_column(String(64))
    child_key_id: Mapped[str] = mapped_column(String(16))
    child_signature: Mapped[str] = mapped_column(String(100))
    key_id: Mapped[str] = mapped_column(String(16))  # this node's key that countersigned
    countersignature: Mapped[str] = mapped_column(String(100))
    anchored_at: Mapped[dt.datetime]
