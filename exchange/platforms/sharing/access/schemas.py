"""Request and response bodies for credentials, applications, grants and subscriptions."""

from __future__ import annotations

import datetime as dt
import uuid

from pydantic import BaseModel, ConfigDict, Field

from exchange.platforms.sharing.access.principal import Role


class TokenResponse(BaseModel):
    """RFC 6749 §5.1."""

    access_token: str
    token_type: str = "Bearer"
    expires_in: int


class ClientCreate(BaseModel):
    # Declared as the service checks it: a department client names its department, a
    # bureau-wide one (admin, auditor, operator) names none.
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "if": {"properties": {"role": {"const": Role.department.value}}},
            "then": {
                "required": ["department"],
                "properties": {"department": {"type": "string", "minLength": 1}},
            },
            "else": {"properties": {"department": {"type": "null"}}},
        },
    )

    name: str = Field(min_length=1, max_length=128)
    role: Role = Role.department
    department: str | None = Field(default=None, max_length=32)


class ClientRead(BaseModel):
    client_id: uuid.UUID
    name: str
    role: str
    department: str | None
    created_at: dt.datetime
    created_by: str
    revoked_at: dt.datetime | None
    last_token_at: dt.datetime | None
    approved_at: dt.datetime | None = Field(
        default=None, description="None: waits for its department's approval; no token until then"
    )
    approved_by: str | None = None


class ClientIssued(ClientRead):
    client_secret: str = Field(description="shown once; only its SHA-256 is kept")


class Attachment(BaseModel):
    model_config = ConfigDict(extra="forbid")

    filename: str = Field(min_length=1, max_length=200)
    content_type: str = Field(pattern=r"^(application/pdf|image/png|image/jpeg)$")
    content_base64: str = Field(min_length=4)


class ApplicationCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    resource: str = Field(max_length=64)
    purpose: str = Field(min_length=4, max_length=2000, description="事由: what the data is for")
    legal_basis: str = Field(min_length=2, max_length=2000, description="依据: law or regulation")
    fields: list[str] = Field(min_length=1, max_length=200)
    plain_fields: list[str] = Field(
        default_factory=list,
        max_length=200,
        description="personal fields asked for in plain values (otherwise masked)",
    )
    duration_days: int = Field(ge=1, le=3650)
    attachment: Attachment | None = None


class Approval(BaseModel):
    model_config = ConfigDict(extra="forbid")

    fields: list[str] | None = Field(default=None, description="a subset of those requested")
    plain_fields: list[str] | None = None
    duration_days: int | None = Field(default=None, ge=1, le=3650)
    rate_per_minute: int | None = Field(default=None, ge=1, le=1_000_000_000)
    rows_per_day: int | None = Field(default=None, ge=1, le=10**12)


class Rejection(BaseModel):
    model_config = ConfigDict(extra="forbid")

    reason: str = Field(min_length=4, max_length=2000, description="mandatory: why refused")


class Renewal(BaseModel):
    model_config = ConfigDict(extra="forbid")

    duration_days: int = Field(ge=1, le=3650)


class Revocation(BaseModel):
    model_config = ConfigDict(extra="forbid")

    reason: str = Field(min_length=4, max_length=2000)


class AttachmentRead(BaseModel):
    filename: str
    content_type: str
    size: int
    sha256: str


class ApplicationRead(BaseModel):
    id: uuid.UUID
    resource: str
    applicant: str
    provider: str
    purpose: str
    legal_basis: str
    fields: list[str]
    plain_fields: list[str]
    duration_days: int
    attachment: AttachmentRead | None
    status: str
    submitted_at: dt.datetime
    submitted_by: str
    review_due: dt.datetime
    answer_due: dt.datetime
    overdue: str | None = Field(description="the missed deadline: review, answer or null")
    deadline_note: str | None = Field(
        default=None, description="set when the deadlines had to be counted Mon-Fri"
    )
    reviewed_at: dt.datetime | None
    decided_at: dt.datetime | None
    decided_by: str | None
    reason: str | None
    grant_id: uuid.UUID | None


class ApplicationPage(BaseModel):
    items: list[ApplicationRead]


class GrantRead(BaseModel):
    id: uuid.UUID
    application_id: uuid.UUID
    resource: str
    consumer: str
    provider: str
    fields: list[str]
    plain_fields: list[str]
    purpose: str
    conditional: bool
    rate_per_minute: int
    rows_per_day: int
    granted_at: dt.datetime
    expires_at: dt.datetime
    renewed_at: dt.datetime | None
    revoked_at: dt.datetime | None
    revoked_by: str | None
    revoke_reason: str | None
    state: str = Field(description="active, expired or revoked")


class GrantPage(BaseModel):
    items: list[GrantRead]


class AllowedCall(BaseModel):
    method: str
    path: str


class AllowedResource(BaseModel):
    resource: str
    grant_id: uuid.UUID
    fields: list[str]
    plain_fields: list[str]
    masked_fields: list[str]
    filterable_fields: list[str]
    expires_at: dt.datetime
    required_headers: list[str]
    rate_per_minute: int
    rows_per_day: int
    calls: list[AllowedCall]


class Allowed(BaseModel):
    department: str
    resources: list[AllowedResource]


class SubscriptionCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    resource: str = Field(max_length=64)


class SubscriptionRead(BaseModel):
    id: uuid.UUID
    resource: str
    grant_id: uuid.UUID
    active: bool
    created_at: dt.datetime


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


class DepartmentCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    code: str = Field(pattern=r"^[A-Z][A-Z0-9_]{0,31}$", description="e.g. MZ")
    name: str = Field(min_length=1, max_length=128, description="e.g. 民政局")
    parent_org: str | None = Field(default=None, max_length=128, description="e.g. 杭州市人民政府")


class DepartmentRead(BaseModel):
    node_code: str
    code: str
    name: str
    parent_org: str | None
