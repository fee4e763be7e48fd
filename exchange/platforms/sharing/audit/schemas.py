"""What nodes send each other to anchor their audit chains, and what verify reports."""

from __future__ import annotations

import datetime as dt
import uuid

from pydantic import BaseModel, ConfigDict, Field

MAX_HEADS = 500  # heads per anchoring call; a node that fell behind catches up in several


class SealHead(BaseModel):
    """A seal as its node signed it: the fields its hash covers, the hash and the signature."""

    seal_no: int = Field(ge=1)
    sealed_at: dt.datetime
    ranges: list[list[int]]
    entries: int = Field(ge=0)
    high_id: int = Field(ge=0)
    pending: list[list[int]]
    lost: list[int]
    digest: str = Field(pattern=r"^[0-9a-f]{64}$")
    prev_hash: str = Field(pattern=r"^[0-9a-f]{64}$")
    hash: str = Field(pattern=r"^[0-9a-f]{64}$")
    signature: str = Field(max_length=100)
    key_id: str | None = Field(default=None, max_length=16)


class HeadsIn(BaseModel):
    heads: list[SealHead] = Field(min_length=1, max_length=MAX_HEADS)


class Countersigned(BaseModel):
    seal_no: int
    seal_hash: str
    countersignature: str
    anchored_at: dt.datetime


class AnchorReceipt(BaseModel):
    anchor: str  # the countersigning node
    key_id: str  # its key's fingerprint
    countersigned: list[Countersigned]


class HeldHead(BaseModel):
    """A child's seal head as its parent keeps it."""

    seal_no: int
    seal_hash: str
    prev_hash: str
    child_key_id: str
    key_id: str
    countersignature: str
    anchored_at: dt.datetime


class HeldHeads(BaseModel):
    child: str
    heads: list[HeldHead]
    next_after: int | None


class SignedBy(BaseModel):
    """Consecutive seals signed with one key."""

    first_seal: int
    last_seal: int
    key_id: str | None  # None: no key this node ever had verifies them


class AnchorStatus(BaseModel):
    anchor: str | None  # the node that countersigns this node's heads; None: unanchored
    countersigned_up_to: int | None
    not_yet_countersigned: int
    compared_with_parent: bool = False
    parent_holds_up_to: int | None = None


class AuditEntryRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    at: dt.datetime
    channel: str
    action: str
    actor: str
    role: str
    department: str | None
    grant_id: uuid.UUID | None
    resource: str | None
    keys: list[str] | None
    rows: int
    purpose: str | None
    case_number: str | None
    outcome: str
    request_id: str | None  # this node's id of the request
    caller_request_id: str | None = None  # the X-Request-ID the caller sent, if any


class AuditPage(BaseModel):
    items: list[AuditEntryRead]
    next_after_id: int | None
