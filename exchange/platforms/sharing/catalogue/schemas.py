from __future__ import annotations

import datetime as dt
import uuid
from typing import Annotated, Any

from pydantic import BaseModel, Field, StringConstraints

# A reason a person wrote: not blank (the schema says so, the service checks it again).
Reason = Annotated[str, StringConstraints(min_length=1, max_length=2000, pattern=r"\S")]


class Decision(BaseModel):
    note: str | None = Field(default=None, max_length=2000)
    decisions: dict[str, str] = Field(
        default_factory=dict,
        description="一数一源: per flagged data item, why this department may be its source too",
    )


class Reasons(BaseModel):
    reasons: list[Reason] = Field(min_length=1, max_length=20, description="why it goes back")


class Withdrawal(BaseModel):
    reason: Reason


class SourceFlagRead(BaseModel):
    field: str
    title: str
    existing_resource: str
    existing_field: str
    source_department: str


class CatalogueResourceRead(BaseModel):
    code: str
    identifier: str
    status: str
    review_state: str | None = Field(description="where the next version stands, if any")
    builtin: bool
    provider_id: uuid.UUID
    current_version: int | None
    draft: dict[str, Any] | None
    created_by: str
    submitted_by: str | None
    created_at: dt.datetime
    updated_at: dt.datetime
    source_flags: list[SourceFlagRead] = Field(default_factory=list)


class CatalogueResourcePage(BaseModel):
    total: int
    items: list[CatalogueResourceRead]


class VersionRead(BaseModel):
    code: str
    number: int
    descriptor: dict[str, Any]
    published_at: dt.datetime
    published_by: str
    previous_until: dt.datetime | None = Field(
        description="until when batches of the previous version are still accepted"
    )


class EventRead(BaseModel):
    at: dt.datetime
    actor: str
    action: str
    reason: str | None
    version: int | None
    detail: dict[str, Any]
