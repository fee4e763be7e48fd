"""异议/纠错: a record (or one of its fields) said to be wrong, the provider's task to answer."""

from __future__ import annotations

import datetime as dt
import uuid

from sqlalchemy import ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from exchange.core.db import Base, new_id, utcnow
from exchange.directory.models import Department


class Dispute(Base):
    """Never deleted: open, then fixed (a batch changed the record) or rejected with reasons."""

    __tablename__ = "sharing_dispute"
    __table_args__ = (Index("ix_sharing_dispute_record", "resource_code", "record_key", "status"),)

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    resource_code: Mapped[str] = mapped_column(ForeignKey("resource.code"))
    record_key: Mapped[str] = mapped_column(String(200))
    field: Mapped[str | None] = mapped_column(String(64))
    claim: Mapped[str] = mapped_column(Text)
    evidence: Mapped[str] = mapped_column(Text)
    channel: Mapped[str] = mapped_column(String(16))  # api | console
    raised_by: Mapped[str] = mapped_column(String(128))
    raiser_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("department.id"), index=True)
    provider_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("department.id"), index=True)
    status: Mapped[str] = mapped_column(String(16), default="open")
    raised_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    due_at: Mapped[dt.datetime]
    # The batch that wrote the record's version the dispute is about: another batch changing
    # the record is the provider's fix.
    record_batch_id: Mapped[str] = mapped_column(String(36))
    closed_at: Mapped[dt.datetime | None]
    closed_by: Mapped[str | None] = mapped_column(String(128))
    resolution: Mapped[str | None] = mapped_column(Text)
    fixed_by_batch: Mapped[str | None] = mapped_column(String(36))

    raiser: Mapped[Department] = relationship(foreign_keys=[raiser_id], lazy="raise")
    provider: Mapped[Department] = relationship(foreign_keys=[provider_id], lazy="raise")
