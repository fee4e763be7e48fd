"""Request and response bodies for credentials (clients, tokens), departments, allowed calls."""

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
