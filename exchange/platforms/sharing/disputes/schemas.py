"""Dispute bodies (异议/纠错)."""

from __future__ import annotations

import datetime as dt
import uuid

from pydantic import BaseModel, ConfigDict, Field


class DisputeCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    resource: str = Field(max_length=64)
    key: str = Field(min_length=1, max_length=200, description="the record's key")
    field: str | None = Field(default=None, max_length=64, description="the wrong field, if one")
    claim: str = Field(min_length=4, max_length=2000, description="what is wrong")
    evidence: str = Field(min_length=4, max_length=4000, description="why: document, case, ...")


class DisputeRejection(BaseModel):
    model_config = ConfigDict(extra="forbid")

    reason: str = Field(min_length=4, max_length=2000)


class DisputeRead(BaseModel):
    id: uuid.UUID
    resource: str
    key: str
    field: str | None
    claim: str
    evidence: str
    channel: str
    raised_by: str
    raiser: str
    provider: str
    status: str = Field(description="open, fixed (a batch changed the record) or rejected")
    raised_at: dt.datetime
    due_at: dt.datetime
    overdue: bool
    closed_at: dt.datetime | None
    closed_by: str | None
    resolution: str | None
    fixed_by_batch: str | None


class DisputePage(BaseModel):
    items: list[DisputeRead]


class DisputeCounts(BaseModel):
    department: str
    raised: int
    against: int
    open: int
    fixed: int
    rejected: int
