from __future__ import annotations

import datetime as dt

from pydantic import BaseModel, Field


class KeyCreate(BaseModel):
    public_key: str = Field(description="the successor key: Ed25519, base64 of the 32 raw bytes")


class KeyRetire(BaseModel):
    after_s: float = Field(
        default=0,
        ge=0,
        le=90 * 86400,
        description="retire now (0) or after an overlap; requests signed with it get 401 then",
    )


class KeyRead(BaseModel):
    owner: str = Field(description="node code or connector id")
    key_id: str = Field(description="fingerprint: the first 16 hex digits of SHA-256(key)")
    public_key: str
    state: str = Field(description="current | retiring (retirement scheduled) | retired")
    created_at: dt.datetime
    activated_at: dt.datetime
    retired_at: dt.datetime | None
