"""Response bodies of reads: one record, a page of records, the change feed."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field


class RecordVersion(BaseModel):
    """Which version a read in time (`?as_of=`, `?valid_at=`) found."""

    version: int
    recorded_at: str = Field(description="when the registry learnt it")
    valid_from: str = Field(description="since when it is true in the world")


class RecordRead(BaseModel):
    resource: str
    key: str
    grant_id: str
    record: dict[str, Any]
    masked_fields: list[str]
    version: RecordVersion | None = Field(
        default=None, description="only on reads with as_of or valid_at"
    )


class RecordPage(BaseModel):
    resource: str
    grant_id: str
    items: list[dict[str, Any]]
    next_cursor: str | None
    masked_fields: list[str]


class ChangeEvent(BaseModel):
    seq: int
    action: str = Field(description="insert, update or delete")
    version: int
    recorded_at: str
    valid_from: str
    key: dict[str, Any]
    record: dict[str, Any] | None = Field(description="null for a delete")


class EventPage(BaseModel):
    resource: str
    grant_id: str
    items: list[ChangeEvent]
    next_cursor: str = Field(description="pass as ?after= to continue; stable when empty")
    masked_fields: list[str]
