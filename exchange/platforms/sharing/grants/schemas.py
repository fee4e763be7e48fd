"""Request and response bodies of grants: renewal, revocation, reading them."""

from __future__ import annotations

import datetime as dt
import uuid

from pydantic import BaseModel, ConfigDict, Field


class Renewal(BaseModel):
    model_config = ConfigDict(extra="forbid")

    duration_days: int = Field(ge=1, le=3650)


class Revocation(BaseModel):
    model_config = ConfigDict(extra="forbid")

    reason: str = Field(min_length=4, max_length=2000)


class GrantRead(BaseModel):
    id: uuid.UUID
    application_id: uuid.UUID
    resource: str
    consumer: str
    provider: str
    fields: list[str]
    plain_fields: list[str]
    purpose: str
    conditional: bool
    rate_per_minute: int
    rows_per_day: int
    granted_at: dt.datetime
    expires_at: dt.datetime
    renewed_at: dt.datetime | None
    revoked_at: dt.datetime | None
    revoked_by: str | None
    revoke_reason: str | None
    state: str = Field(description="active, expired or revoked")


class GrantPage(BaseModel):
    items: list[GrantRead]
