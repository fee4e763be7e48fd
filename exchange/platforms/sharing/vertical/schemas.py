"""What travels between nodes in a call across levels, and what a trace shows."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from exchange.platforms.sharing.applications.schemas import ApplicationCreate

Action = Literal["record", "records", "apply", "status"]


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
    application: ApplicationCreate | None = Field(default=None, description="action apply")
    application_id: uuid.UUID | None = Field(default=None, description="action status")


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


class SignedDecision(BaseModel):
    """The provider's application as it stands, signed by the provider node's key: what the
    applicant's node keeps as its copy of the grant."""

    provider_node: str
    document: dict[str, object] = Field(description="the provider's ApplicationRead")
    grant_expires_at: dt.datetime | None
    key_id: str
    signature: str = Field(description="Ed25519 over canonical JSON of document + expiry")


class RemoteGrantRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    provider_node: str
    application_id: uuid.UUID
    resource: str
    department: str
    status: str
    grant_id: uuid.UUID | None
    grant_expires_at: dt.datetime | None
    refused: str | None = Field(description="what the provider last said when it refused a read")
    key_id: str
    signature: str
    updated_at: dt.datetime
