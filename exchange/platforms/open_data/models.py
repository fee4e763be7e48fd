"""Open-data portal tables: the search index, facet values, feedback and public API keys.

The index tables are derived data: `search_index.refresh` rebuilds an entry whenever its
catalogue entry's schema digest changed, so they can be dropped and rebuilt at any time.
"""

from __future__ import annotations

import datetime as dt
import uuid

from sqlalchemy import ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from exchange.core.db import Base, JSONDoc, new_id, utcnow


class PortalDataset(Base):
    """What the portal derived from one catalogue entry, and from which version of it."""

    __tablename__ = "od_dataset"

    resource_code: Mapped[str] = mapped_column(
        ForeignKey("resource.code", ondelete="CASCADE"), primary_key=True
    )
    source_sha256: Mapped[str] = mapped_column(String(64))
    formats: Mapped[list[str]] = mapped_column(JSONDoc, default=list)
    is_geo: Mapped[bool] = mapped_column(default=False)
    indexed_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class SearchTerm(Base):
    """One segmented word (jieba) of a dataset's title, abstract, tags or provider."""

    __tablename__ = "od_search_term"
    __table_args__ = (Index("ix_od_search_term_resource", "resource_code"),)

    term: Mapped[str] = mapped_column(String(64), primary_key=True)
    resource_code: Mapped[str] = mapped_column(
        ForeignKey("resource.code", ondelete="CASCADE"), primary_key=True
    )
    weight: Mapped[int] = mapped_column(Integer)


class FacetValue(Base):
    """One facet value of a dataset (provider, topic, format, update cycle, open class, tag)."""

    __tablename__ = "od_facet"
    __table_args__ = (Index("ix_od_facet_resource", "resource_code"),)

    facet: Mapped[str] = mapped_column(String(16), primary_key=True)
    value: Mapped[str] = mapped_column(String(200), primary_key=True)
    resource_code: Mapped[str] = mapped_column(
        ForeignKey("resource.code", ondelete="CASCADE"), primary_key=True
    )
    label: Mapped[str] = mapped_column(String(200))


class Feedback(Base):
    """A visitor's report of a problem with a dataset, and the provider's answer."""

    __tablename__ = "od_feedback"
    __table_args__ = (Index("ix_od_feedback_resource_created", "resource_code", "created_at"),)

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    resource_code: Mapped[str] = mapped_column(ForeignKey("resource.code"))
    kind: Mapped[str] = mapped_column(String(16))
    message: Mapped[str] = mapped_column(Text)
    contact: Mapped[str | None] = mapped_column(String(200))  # never shown publicly
    status: Mapped[str] = mapped_column(String(16), default="open")  # open | answered
    answer: Mapped[str | None] = mapped_column(Text)
    answered_by: Mapped[str | None] = mapped_column(String(128))
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    answered_at: Mapped[dt.datetime | None]


class ApiKey(Base):
    """An optional public API key: a higher rate limit than anonymous use. Only its hash is kept."""

    __tablename__ = "od_api_key"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    key_sha256: Mapped[str] = mapped_column(String(64), unique=True)
    label: Mapped[str] = mapped_column(String(100))
    contact: Mapped[str] = mapped_column(String(200))
    rate_per_minute: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    revoked_at: Mapped[dt.datetime | None]
