from __future__ import annotations

import datetime as dt
import uuid

from pydantic import BaseModel, Field


class ConnectorCreate(BaseModel):
    department: str = Field(max_length=32, description="department code on this node, e.g. GA")
    name: str = Field(min_length=1, max_length=128)
    public_key: str = Field(description="Ed25519 public key, base64 of the 32 raw bytes")


class ConnectorRead(BaseModel):
    id: uuid.UUID
    department: str
    name: str
    state: str
    created_at: dt.datetime
    approved_at: dt.datetime | None
    last_seen_at: dt.datetime | None
    last_push_at: dt.datetime | None
