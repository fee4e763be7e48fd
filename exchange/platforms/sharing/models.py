"""Sharing platform tables: credentials, applications and grants, the append-only audit log."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from sqlalchemy import BigInteger, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from exchange.core.db import Base, BigIntPK, JSONDoc, new_id, utcnow
from exchange.directory.models import Department


class ApiClient(Base):
    """An OAuth2 client (client credentials grant). Only the secret's SHA-256 is kept."""

    __tablename__ = "sharing_client"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)  # the client_id
    name: Mapped[str] = mapped_column(String(128))
    role: Mapped[str] = mapped_column(String(16))
    department_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("department.id"))
    secret_sha256: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    created_by: Mapped[str] = mapped_column(String(128))
    revoked_at: Mapped[dt.datetime | None]
    last_token_at: Mapped[dt.datetime | None]
    # 三员分立: a department's client minted by the bureau gets no token until the department
    # approves it (None: pending).
    approved_at: Mapped[dt.datetime | None]
    approved_by: Mapped[str | None] = mapped_column(String(128))

    department: Mapped[Department | None] = relationship(lazy="raise")


class ConsoleUser(Base):
    """A person who signs in to the staff console; the password is kept as a scrypt hash."""

    __tablename__ = "console_user"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    password_hash: Mapped[str] = mapped_column(String(200))
    role: Mapped[str] = mapped_column(String(16))
    department_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("department.id"))
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)

    department: Mapped[Department | None] = relationship(lazy="raise")


class ConsoleSessionRow(Base):
    """A signed-in console session, kept on the server so that logout, disabling the user or
    resetting the password ends it at once. The cookie holds a random token; only its SHA-256
    is kept."""

    __tablename__ = "console_session"

    token_sha256: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("console_user.id"), index=True)
    csrf: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[dt.datetime]
    ended_at: Mapped[dt.datetime | None]


class Application(Base):
    """A department's request to use another department's resource (申请)."""

    __tablename__ = "sharing_application"
    __table_args__ = (
        Index("ix_sharing_application_provider_status", "provider_id", "status"),
        Index("ix_sharing_application_applicant_status", "applicant_id", "status"),
    )

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    resource_code: Mapped[str] = mapped_column(ForeignKey("resource.code"))
    applicant_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("department.id"))
    provider_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("department.id"))
    purpose: Mapped[str] = mapped_column(Text)
    legal_basis: Mapped[str] = mapped_column(Text)
    fields: Mapped[list[str]] = mapped_column(JSONDoc)
    plain_fields: Mapped[list[str]] = mapped_column(JSONDoc, default=list)
    duration_days: Mapped[int] = mapped_column(Integer)
    attachment: Mapped[dict[str, Any] | None] = mapped_column(JSONDoc)  # name, type, sha256, key
    # submitted -> in_review -> approved | rejected; approved at once for 无条件 resources
    status: Mapped[str] = mapped_column(String(16))
    submitted_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    submitted_by: Mapped[str] = mapped_column(String(128))
    review_due: Mapped[dt.datetime]
    answer_due: Mapped[dt.datetime]
    reviewed_at: Mapped[dt.datetime | None]
    decided_at: Mapped[dt.datetime | None]
    decided_by: Mapped[str | None] = mapped_column(String(128))
    reason: Mapped[str | None] = mapped_column(Text)

    applicant: Mapped[Department] = relationship(foreign_keys=[applicant_id], lazy="raise")
    provider: Mapped[Department] = relationship(foreign_keys=[provider_id], lazy="raise")


class Grant(Base):
    """What an approved application allows: fields, plain values, a period and quotas."""

    __tablename__ = "sharing_grant"
    __table_args__ = (Index("ix_sharing_grant_consumer_resource", "consumer_id", "resource_code"),)

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    application_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("sharing_application.id"), unique=True
    )
    resource_code: Mapped[str] = mapped_column(ForeignKey("resource.code"))
    consumer_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("department.id"))
    provider_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("department.id"))
    fields: Mapped[list[str]] = mapped_column(JSONDoc)
    plain_fields: Mapped[list[str]] = mapped_column(JSONDoc, default=list)
    purpose: Mapped[str] = mapped_column(Text)
    conditional: Mapped[bool]
    rate_per_minute: Mapped[int] = mapped_column(Integer)
    rows_per_day: Mapped[int] = mapped_column(BigInteger)
    granted_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[dt.datetime]
    renewed_at: Mapped[dt.datetime | None]
    revoked_at: Mapped[dt.datetime | None]
    revoked_by: Mapped[str | None] = mapped_column(String(128))
    revoke_reason: Mapped[str | None] = mapped_column(Text)

    consumer: Mapped[Department] = relationship(foreign_keys=[consumer_id], lazy="raise")
    provider: Mapped[Department] = relationship(foreign_keys=[provider_id], lazy="raise")


class BulkSubscription(Base):
    """An exchange-platform subscription made through a grant: delivered only while it holds."""

    __tablename__ = "sharing_subscription"
    __table_args__ = (UniqueConstraint("subscription_id"),)

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    grant_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("sharing_grant.id"), index=True)
    subscription_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("subscription.id"))
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    created_by: Mapped[str] = mapped_column(String(128))


class AuditEntry(Base):
    """One read of shared data (or a refused attempt). Append-only: never updated or deleted.

    `mac` is an HMAC of the entry's content under a key derived from the node secret, written
    with the entry; seals (AuditSeal) later link entries into a signed hash chain.
    """

    __tablename__ = "audit_entry"

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True, autoincrement=True)
    at: Mapped[dt.datetime]
    channel: Mapped[str] = mapped_column(String(8))  # api | page | bulk
    action: Mapped[str] = mapped_column(String(32))
    actor: Mapped[str] = mapped_column(String(128))
    role: Mapped[str] = mapped_column(String(16))
    department: Mapped[str | None] = mapped_column(String(64))
    grant_id: Mapped[uuid.UUID | None]
    resource: Mapped[str | None] = mapped_column(String(64))
    keys: Mapped[list[str] | None] = mapped_column(JSONDoc)
    rows: Mapped[int] = mapped_column(BigInteger)
    purpose: Mapped[str | None] = mapped_column(Text)
    case_number: Mapped[str | None] = mapped_column(String(64))
    outcome: Mapped[str] = mapped_column(String(40))
    request_id: Mapped[str | None] = mapped_column(String(128))
    caller_request_id: Mapped[str | None] = mapped_column(String(128))  # the caller's X-Request-ID
    mac: Mapped[str] = mapped_column(String(64))


class AuditSeal(Base):
    """A signed link of the audit chain covering a set of entry ids (as id ranges)."""

    __tablename__ = "audit_seal"

    seal_no: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    sealed_at: Mapped[dt.datetime]
    ranges: Mapped[list[list[int]]] = mapped_column(JSONDoc)  # [[first, last], ...] covered
    entries: Mapped[int] = mapped_column(BigInteger)
    high_id: Mapped[int] = mapped_column(BigInteger)  # highest id ever sealed, up to this seal
    # ids below high_id not yet visible (a transaction still open): [[id, first seen (unix)]]
    pending: Mapped[list[list[int]]] = mapped_column(JSONDoc)
    # pending ids given up after the window: rolled back, or deleted before sealing
    lost: Mapped[list[int]] = mapped_column(JSONDoc)
    digest: Mapped[str] = mapped_column(String(64))
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64))
    signature: Mapped[str] = mapped_column(String(100))
    # fingerprint of the node key that signed (None: sealed before 0009; verify finds the key)
    key_id: Mapped[str | None] = mapped_column(String(16))
