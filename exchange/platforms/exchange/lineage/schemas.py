from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field


class ReceiptRead(BaseModel):
    node: str
    action: str
    at: str
    sha256: str
    signature: str
    detail: dict[str, Any]
    layout: str = Field(
        default="hub-receipt/v1", description="the signed message's layout (README, Receipts)"
    )
    public_key: str | None = None
    key_id: str | None = Field(default=None, description="fingerprint of the signing node key")
