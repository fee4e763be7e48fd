"""Request and response bodies of applications (申请) and their attachments."""

from __future__ import annotations

import datetime as dt
import uuid

from pydantic import BaseModel, ConfigDict, Field


class Attachment(BaseModel):
    model_config = ConfigDict(extra="forbid")

    filename: str = Field(min_length=1, max_length=200)
    content_type: str = Field(pattern=r"^(application/pdf|image/png|image/jpeg)$")
    content_base64: str = Field(min_length=4)


class ApplicationCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    resource: str = Field(max_length=64)
    purpose: str = Field(min_length=4, max_length=2000, description="事由: what the data is for")
    legal_basis: str = Field(min_length=2, max_length=2000, description="依据: law or regulation")
    fields: list[str] = Field(min_length=1, max_length=200)
    plain_fields: list[str] = Field(
        default_factory=list,
        max_length=200,
        description="personal fields asked for in plain values (otherwise masked)",
    )
    duration_days: int = Field(ge=1, le=3650)
    attachment: Attachment | None = None


class Approval(BaseModel):
    model_config = ConfigDict(extra="forbid")

    fields: list[str] | None = Field(default=None, description="a subset of those requested")
    plain_fields: list[str] | None = None
    duration_days: int | None = Field(default=None, ge=1, le=3650)
    rate_per_minute: int | None = Field(default=None, ge=1, le=1_000_000_000)
    rows_per_day: int | None = Field(default=None, ge=1, le=10**12)


class Rejection(BaseModel):
    model_config = ConfigDict(extra="forbid")

    reason: str = Field(min_length=4, max_length=2000, description="mandatory: why refused")


class AttachmentRead(BaseModel):
    filename: str
    content_type: str
    size: int
    sha256: str


class ApplicationRead(BaseModel):
    id: uuid.UUID
    resource: str
    applicant: str
    provider: str
    purpose: str
    legal_basis: str
    fields: list[str]
    plain_fields: list[str]
    duration_days: int
    attachment: AttachmentRead | None
    status: str
    submitted_at: dt.datetime
    submitted_by: str
    review_due: dt.datetime
    answer_due: dt.datetime
    overdue: str | None = Field(description="the missed deadline: review, answer or null")
    deadline_note: str | None = Field(
        default=None, description="set when the deadlines had to be counted Mon-Fri"
    )
    reviewed_at: dt.datetime | None
    decided_at: dt.datetime | None
    decided_by: str | None
    reason: str | None
    grant_id: uuid.UUID | None


class ApplicationPage(BaseModel):
    items: list[ApplicationRead]
