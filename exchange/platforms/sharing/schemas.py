from __future__ import annotations

import datetime as dt

from pydantic import BaseModel


class DataItem(BaseModel):
    name: str
    title: str
    type: str
    sensitivity: str


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
    quality_score: float | None


class CatalogPage(BaseModel):
    total: int
    items: list[CatalogEntry]
