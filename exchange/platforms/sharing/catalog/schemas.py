from __future__ import annotations

import datetime as dt

from pydantic import BaseModel, Field


class DataItem(BaseModel):
    name: str
    title: str
    type: str
    sensitivity: str


class QualityCheck(BaseModel):
    """One input of the quality score (`exchange.quality.score`)."""

    name: str = Field(description="standards, or a metadata promise: complete, described ...")
    passed: bool
    value: float = Field(description="the standards pass rate, or 1 / 0 for a promise")
    detail: str


class CatalogEntry(BaseModel):
    code: str
    identifier: str | None
    title: str
    abstract: str
    classification: str
    provider_code: str
    provider_name: str
    share_class: str
    share_class_label: str
    share_conditions: str | None
    open_class: str
    open_class_label: str
    update_cycle: str
    format: str = "table"
    data_items: list[DataItem]
    tags: list[str]
    published_at: dt.datetime
    last_updated_at: dt.datetime | None
    row_count: int
    status: str = Field(description="published, or draft while required fields are missing")
    publishable: bool
    missing_fields: list[str]
    quality_score: float = Field(
        description="0.5 x standards pass rate + 0.5 x share of metadata promises kept, 0-1"
    )
    quality_checks: list[QualityCheck]


class CatalogPage(BaseModel):
    total: int
    items: list[CatalogEntry]
