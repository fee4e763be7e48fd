from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from pydantic import BaseModel, ConfigDict, Field


class NodeRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    code: str
    level: str
    name: str
    url: str | None
    parent_code: str | None


class TopologyRead(BaseModel):
    node: NodeRead
    parent: NodeRead | None
    children: list[NodeRead]
    public_key: str


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


class DeliveryRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    batch_id: uuid.UUID
    resource_code: str
    node_code: str | None
    department_id: uuid.UUID | None
    state: str
    attempts: int
    last_error: str | None
    created_at: dt.datetime
    delivered_at: dt.datetime | None
    remote_receipt: dict[str, Any] | None


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


class InboxItem(BaseModel):
    delivery_id: int
    batch_id: uuid.UUID
    resource: str
    sha256: str
    rows: int | None
    size_bytes: int
    created_at: dt.datetime
