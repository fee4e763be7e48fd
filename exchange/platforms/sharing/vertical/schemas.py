"""What travels between nodes in a call across levels, and what a trace shows."""

from __future__ import annotations

import datetime as dt
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

Action = Literal["record", "records"]


class RelayedCaller(BaseModel):
    """Who asked at the origin node, as that node authenticated them (its word, signed)."""

    model_config = ConfigDict(extra="forbid")

    actor: str = Field(max_length=128)
    department: str = Field(max_length=32, description="the department's code at the origin")


class RelayedRead(BaseModel):
    """A read relayed one hop. The signer's Authorization covers its SHA-256; `nonce` is new
    at every hop, `request_id` the same on the whole path."""

    model_config = ConfigDict(extra="forbid")

    request_id: str = Field(max_length=128)
    nonce: str = Field(min_length=32, max_length=36)
    origin: str = Field(pattern=r"^\d{12}$")
    provider: str = Field(pattern=r"^\d{12}$")
    caller: RelayedCaller
    purpose: str | None = Field(default=None, max_length=2000)
    case_number: str | None = Field(default=None, max_length=64)
    action: Action
    resource: str = Field(max_length=64)
    key: str | None = Field(default=None, max_length=256)
    fields: str = Field(default="", max_length=2000)
    params: list[tuple[str, str]] = Field(default_factory=list, max_length=64)
    cursor: str | None = Field(default=None, max_length=4096)
    limit: int = Field(default=100, ge=1, le=32_000)
    budget_ms: int = Field(ge=1, le=120_000, description="time left for the rest of the path")


class HopRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    node: str
    role: str
    upstream: str
    downstream: str | None
    provider_node: str
    resource: str
    action: str
    request_in: dt.datetime
    request_out: dt.datetime
    response_in: dt.datetime
    response_out: dt.datetime
    status: int
    outcome: str
    audit_entry_ids: list[int] = Field(description="this node's audit entries of the request")
    added_ms: float = Field(description="time spent at this hop beyond the next hop's answer")


class TraceRead(BaseModel):
    request_id: str
    hops: list[HopRead] = Field(description="origin first, provider last")
    complete: bool = Field(description="every hop on the path answered for its part")
    problems: list[str] = Field(default_factory=list)


class FederatedEntryRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    provider_node: str = Field(description="the node that provides it")
    code: str
    title: str
    provider_department: str
    provider_name: str
    share_class: str
    open_class: str
    share_levels: list[str]
    via: str | None = Field(default=None, description="the neighbour it was learned from")
    seen_at: dt.datetime | None = None


class FederatedList(BaseModel):
    node: str
    entries: list[FederatedEntryRead]
