"""Request and response bodies of bulk subscriptions."""

from __future__ import annotations

import datetime as dt
import uuid

from pydantic import BaseModel, ConfigDict, Field


class SubscriptionCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    resource: str = Field(max_length=64)


class SubscriptionRead(BaseModel):
    id: uuid.UUID
    resource: str
    grant_id: uuid.UUID
    active: bool
    created_at: dt.datetime
