from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from pydantic import BaseModel, Field

from exchange.platforms.exchange.deliveries.schemas import DeliveryRead
from exchange.platforms.exchange.lineage.schemas import ReceiptRead


class BatchRead(BaseModel):
    batch_id: uuid.UUID
    resource: str
    status: str
    node: str
    origin: str
    origin_public_key: str = Field(description="the origin's Ed25519 public key (base64)")
    origin_key_id: str | None = Field(description="its fingerprint (the key's name)")
    signature: str = Field(
        description="the origin's signature of `hub-batch/v1`, see README (Receipts)"
    )
    sha256: str
    size_bytes: int
    rows: int | None
    first_row: int = Field(description="the number the sender's file gives its first row")
    destination: str | None
    received_at: dt.datetime
    completed_at: dt.datetime | None
    gate: dict[str, Any] | None
    load: dict[str, Any] | None
    lineage: list[ReceiptRead] = Field(description="upstream hops, then this node's receipts")
    deliveries: list[DeliveryRead]
