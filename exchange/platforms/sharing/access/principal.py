"""Who is acting on the sharing platform, and in which role.

Four roles, kept apart (X-Road separates its administrators the same way):
* department: a department's system (API client) or staff member (console): applies for,
  provides, reviews and reads shared data for that department only;
* admin: manages credentials and users, may revoke a grant in an emergency; reads no data;
* auditor: reads and verifies the audit log; cannot grant, cannot read data;
* operator: watches deadlines, quotas and sealing; cannot read data or attachments.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from enum import StrEnum


class Role(StrEnum):
    department = "department"
    admin = "admin"
    auditor = "auditor"
    operator = "operator"


@dataclass(frozen=True, slots=True)
class Principal:
    kind: str  # "client" | "user"
    id: uuid.UUID
    name: str
    role: Role
    node_code: str
    department_id: uuid.UUID | None
    department_code: str | None
    display_name: str | None = None  # a client's name, e.g. 民政局低保系统
    created_by: str | None = None  # who minted the client, e.g. user:admin1

    @property
    def actor(self) -> str:
        """How the audit log and decisions name this principal: a client with its display name
        and who created it, so that a client minted by an admin is seen as such."""
        if self.kind != "client" or not self.display_name:
            return f"{self.kind}:{self.name}"
        label = f"{self.kind}:{self.name} {self.display_name[:40]} (by {self.created_by or '?'})"
        return label[:128]

    @property
    def department_path(self) -> str | None:
        """X-Road style NODE/DEPARTMENT, e.g. 330100000000/TJ."""
        return f"{self.node_code}/{self.department_code}" if self.department_code else None

    def require_department(self) -> uuid.UUID:
        assert self.department_id is not None, "department principals always carry one"
        return self.department_id
