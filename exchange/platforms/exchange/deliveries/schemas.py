from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from pydantic import BaseModel, ConfigDict


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


class InboxItem(BaseModel):
    delivery_id: int
    batch_id: uuid.UUID
    resource: str
    sha256: str
    rows: int | None
    size_bytes: int
    created_at: dt.datetime
