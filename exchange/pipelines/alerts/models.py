"""The alert state: one row per finding (system, kind, subject) that ever alerted.

A finding is the same problem from run to run when its system, kind and subject are; the row
remembers what the people were last told (`notified`), so a run sends only what changed.
"""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from sqlalchemy import ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from exchange.core.db import Base, BigIntPK, JSONDoc, utcnow


class AssuranceAlert(Base):
    __tablename__ = "assurance_alert"
    __table_args__ = (UniqueConstraint("system", "kind", "subject"),)

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True, autoincrement=True)
    system: Mapped[str] = mapped_column(String(16))
    check: Mapped[str] = mapped_column(String(64))
    kind: Mapped[str] = mapped_column(String(64))
    subject: Mapped[str] = mapped_column(String(200))
    severity: Mapped[str] = mapped_column(String(8))
    message: Mapped[str] = mapped_column(Text)
    detail: Mapped[dict[str, Any]] = mapped_column(JSONDoc, default=dict)
    state: Mapped[str] = mapped_column(String(8), index=True)  # open | resolved
    # severity + wording with its numbers blanked: an age or a count moving is not news
    fingerprint: Mapped[str] = mapped_column(String(64))
    # per channel, what it last accepted: {"smtp:mail:25": "open:<fingerprint>"}; a channel
    # missing or behind is sent the news on the next run (none configured, or it failed)
    notified: Mapped[dict[str, Any]] = mapped_column(JSONDoc, default=dict)
    opened_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    changed_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    resolved_at: Mapped[dt.datetime | None]
    last_run_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("check_run.id", ondelete="SET NULL")
    )
    acknowledged_by: Mapped[str | None] = mapped_column(String(120))
    acknowledged_at: Mapped[dt.datetime | None]
    assigned_to: Mapped[str | None] = mapped_column(String(120))
